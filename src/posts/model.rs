//! Validated values of the posts domain.

use crate::error::FieldError;
use crate::validate::TextRule;

crate::stored_enum! {
    pub enum PostStatus {
        Draft,
        Published,
    }
}

/// A URL slug: lower-case ASCII letters and digits in hyphen-separated words, ≤ 100 chars.
/// Stored as the `slug` text column.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sea_orm::DeriveValueType,
)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    pub const MAX_LEN: usize = 100;
    /// Generated slugs leave room for a `-N` suffix.
    const GENERATED_LEN: usize = 80;

    pub fn parse(raw: &str) -> Result<Slug, FieldError> {
        let valid = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.split('-').all(|word| {
                !word.is_empty()
                    && word
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if valid {
            Ok(Slug(raw.to_string()))
        } else {
            Err(FieldError::at(
                "/slug",
                "must be lower-case letters and digits in hyphen-separated words, at most 100 characters",
            ))
        }
    }

    /// A slug made from a title: "Hello, World!" → "hello-world".
    pub fn from_title(title: &str) -> Slug {
        let mut slug = String::new();
        for c in title.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        slug.truncate(Self::GENERATED_LEN);
        let slug = slug.trim_end_matches('-');
        Slug(if slug.is_empty() {
            "post".into()
        } else {
            slug.to_string()
        })
    }

    /// The `n`th alternative when this slug is taken: `slug-2`, `slug-3`, …
    pub fn numbered(&self, n: u32) -> Slug {
        Slug(format!("{}-{n}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A title: 1–200 characters after trimming.
pub const TITLE: TextRule = TextRule::required("/title", 200);

/// A body: at most 100,000 characters.
pub const BODY: TextRule = TextRule::optional("/body", 100_000);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_come_from_titles() {
        assert_eq!(Slug::from_title("Hello, World!").as_str(), "hello-world");
        assert_eq!(
            Slug::from_title("  Ünïcode & more -- dashes ").as_str(),
            "n-code-more-dashes"
        );
        assert_eq!(Slug::from_title("!!!").as_str(), "post");
        assert!(Slug::from_title(&"word ".repeat(40)).as_str().len() <= 80);
        assert_eq!(Slug::from_title("a").numbered(2).as_str(), "a-2");
    }

    #[test]
    fn explicit_slugs_must_match_the_pattern() {
        assert!(Slug::parse("launch-day-2026").is_ok());
        for bad in ["", "Caps", "double--dash", "-lead", "trail-", "sp ace", "ü"] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert!(Slug::parse(&"a".repeat(101)).is_err());
    }
}

//! Conditional writes (RFC 9110 §13.1.1): `If-Match` on the edits of versioned resources,
//! so a client that read version N cannot overwrite a version N+1 it never saw. Tags are
//! compared strongly (`W/` tags never match); `*` matches any existing resource.
//!
//! A candidate matches when it is the resource's *version tag* (the part of its ETag that
//! names the stored row's version, e.g. `post-<id>-v3`) or that tag followed by `-…`.
//! Products append their stock levels to their ETag; stock moves with every order, and an
//! admin's edit of name or price does not depend on it, so an edit is checked against the
//! product's own version only and a concurrent sale never fails it with 412.

use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::rest::responses::{DeclaredProblems, Problems};

/// The versions a client allows a change to apply to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `If-Match: *`: any current version.
    Any,
    /// The opaque parts of the strong tags listed.
    Tags(Vec<String>),
}

impl IfMatch {
    /// Reads the `If-Match` header value; `required` (`server.require_if_match`) makes its
    /// absence a 428.
    pub fn from_header(value: Option<&str>, required: bool) -> Result<Option<Self>, ApiError> {
        let Some(value) = value else {
            return if required {
                Err(ApiError::PreconditionRequired(
                    "send If-Match with the ETag of the version you edit (or `*`)".into(),
                ))
            } else {
                Ok(None)
            };
        };
        if value.trim() == "*" {
            return Ok(Some(IfMatch::Any));
        }
        let tags = value
            .split(',')
            .map(str::trim)
            // Weak tags never match strongly; keeping them out makes them fail with 412.
            .filter_map(|t| t.strip_prefix('"')?.strip_suffix('"'))
            .map(str::to_string)
            .collect();
        Ok(Some(IfMatch::Tags(tags)))
    }

    /// Whether the change may apply to the row whose version tag is `version_tag`.
    pub fn allows(&self, version_tag: &str) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Tags(tags) => tags.iter().any(|t| {
                t.strip_prefix(version_tag)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
            }),
        }
    }
}

/// The `If-Match` of an edit (PATCH, DELETE): mandatory when `server.require_if_match`.
pub fn edit_precondition(
    server: &ServerConfig,
    value: Option<&str>,
) -> Result<Option<IfMatch>, ApiError> {
    IfMatch::from_header(value, server.require_if_match)
}

/// The problems of a conditional write: 412 and 428.
pub struct Conditional;

impl DeclaredProblems for Conditional {
    const PROBLEMS: &'static [(u16, &'static str)] = &[
        (
            412,
            "`If-Match` names no current version: reload and reapply the change.",
        ),
        (
            428,
            "`If-Match` is required (`server.require_if_match`) and was not sent.",
        ),
    ];
}

/// The errors of a conditional write: [`ApiError`], with 412 and 428 declared in the
/// OpenAPI document of the operations that return it.
pub type ConditionalError = Problems<Conditional>;

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(value: &str) -> IfMatch {
        IfMatch::from_header(Some(value), false)
            .expect("parses")
            .expect("present")
    }

    #[test]
    fn tags_match_the_version_tag_or_its_extensions_only() {
        let sent = parsed("\"other\", \"product-1-v3-s10-0\"");
        assert!(sent.allows("product-1-v3"));
        assert!(!sent.allows("product-1-v4"));
        assert!(!parsed("\"post-1-v30\"").allows("post-1-v3"));
        assert!(parsed("\"post-1-v3\"").allows("post-1-v3"));
        assert!(!parsed("W/\"post-1-v3\"").allows("post-1-v3"));
        assert!(parsed(" * ").allows("anything"));
    }

    #[test]
    fn absence_is_428_only_when_required() {
        assert_eq!(IfMatch::from_header(None, false).expect("optional"), None);
        let err = IfMatch::from_header(None, true).expect_err("required");
        assert_eq!(err.status().as_u16(), 428);
    }
}

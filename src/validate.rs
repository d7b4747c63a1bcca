//! Parsing helpers shared by the features' validated values (`model.rs`): each failure is
//! a `FieldError` naming the JSON pointer of the bad field.

use crate::error::FieldError;

/// Free text of a field, bounded in characters.
#[derive(Debug, Clone, Copy)]
pub struct TextRule {
    /// The field's JSON pointer, e.g. `/title`.
    pub pointer: &'static str,
    /// At most this many characters.
    pub max_chars: usize,
    /// Trimmed, and then must not be empty (names, titles); otherwise taken as sent.
    pub required: bool,
}

impl TextRule {
    /// A trimmed, non-empty line of at most `max_chars` characters.
    pub const fn required(pointer: &'static str, max_chars: usize) -> Self {
        Self {
            pointer,
            max_chars,
            required: true,
        }
    }

    /// Any text of at most `max_chars` characters, kept as sent.
    pub const fn optional(pointer: &'static str, max_chars: usize) -> Self {
        Self {
            pointer,
            max_chars,
            required: false,
        }
    }

    /// The same rule for a field at another pointer.
    pub const fn at(self, pointer: &'static str) -> Self {
        Self { pointer, ..self }
    }

    pub fn parse(&self, raw: &str) -> Result<String, FieldError> {
        let text = if self.required { raw.trim() } else { raw };
        if self.required && text.is_empty() {
            return Err(FieldError::at(self.pointer, "must not be empty"));
        }
        if text.chars().count() > self.max_chars {
            return Err(FieldError::at(
                self.pointer,
                format!("must be at most {} characters", self.max_chars),
            ));
        }
        Ok(text.to_string())
    }
}

/// Runs `result`, recording its error in `errors` so every bad field is reported at once.
pub fn collect<T>(result: Result<T, FieldError>, errors: &mut Vec<FieldError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_is_trimmed_and_bounded() {
        let rule = TextRule::required("/title", 5);
        assert_eq!(rule.parse("  hi  ").ok().as_deref(), Some("hi"));
        assert_eq!(
            rule.parse("   ").err().map(|e| e.detail),
            Some("must not be empty".to_string())
        );
        assert_eq!(
            rule.parse("toolong").err().map(|e| e.detail),
            Some("must be at most 5 characters".to_string())
        );
    }

    #[test]
    fn optional_text_is_kept_as_sent() {
        let rule = TextRule::optional("/body", 3);
        assert_eq!(rule.parse(" a ").ok().as_deref(), Some(" a "));
        assert_eq!(rule.parse("").ok().as_deref(), Some(""));
        assert!(rule.parse("abcd").is_err());
    }
}

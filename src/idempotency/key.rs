//! The three parts that name a request: who sends it ([`KeyScope`]), the key it carries
//! ([`Key`]) and what it asks for ([`Fingerprint`]). Each is bounded before it is stored.

use sha2::{Digest, Sha256};
use std::fmt::Display;

/// Longest key accepted (Stripe's limit; the draft sets none).
pub const MAX_KEY_LEN: usize = 255;

/// A client's `Idempotency-Key`: 1–255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "this operation requires an Idempotency-Key header (a unique value per operation, e.g. a UUID)"
    )]
    Missing,
    #[error("Idempotency-Key must not be empty")]
    Empty,
    #[error("Idempotency-Key must be at most {MAX_KEY_LEN} characters")]
    TooLong,
    #[error("Idempotency-Key must be printable ASCII (a UUID is a good key)")]
    NotPrintable,
}

impl Key {
    /// Reads a header value. The IETF draft sends the key as a structured-field string
    /// (`"…"`), Stripe's clients send it bare; both name the same key.
    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        // The draft's quoted form; `""` stays a key of two quotes, as the document's pattern
        // (which cannot tell the forms apart) promises every printable string is one.
        let key = match raw.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
            Some(inner) if !inner.is_empty() => inner,
            _ => raw,
        };
        if key.is_empty() {
            return Err(KeyError::Empty);
        }
        if key.len() > MAX_KEY_LEN {
            return Err(KeyError::TooLong);
        }
        if !key.bytes().all(|b| (b' '..=b'~').contains(&b)) {
            return Err(KeyError::NotPrintable);
        }
        Ok(Self(key.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whose keys these are: two callers sending the same key never meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyScope(String);

impl KeyScope {
    /// `kind` names the sort of caller (`user`, `api-key`), `id` the caller; together at most
    /// 64 characters (the column's width), which a UUID and a short kind fit.
    pub fn of(kind: &'static str, id: impl Display) -> Self {
        let mut scope = format!("{kind}:{id}");
        scope.truncate(64);
        Self(scope)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SHA-256 (hex) of a request's method, path and body bytes: the same key sent with
/// anything else is refused rather than answered with another request's response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn of(method: &str, path: &str, body: &[u8]) -> Self {
        // Neither a method nor a path can hold a newline, so the parts cannot run together.
        let digest = Sha256::new()
            .chain_update(method.as_bytes())
            .chain_update(b"\n")
            .chain_update(path.as_bytes())
            .chain_update(b"\n")
            .chain_update(body)
            .finalize();
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_printable_ascii_characters() {
        assert_eq!(Key::parse("abc-123").map(|k| k.0), Ok("abc-123".into()));
        assert_eq!(
            Key::parse("\"quoted key\"").map(|k| k.0),
            Ok("quoted key".into())
        );
        assert_eq!(Key::parse(""), Err(KeyError::Empty));
        assert_eq!(Key::parse("\"\"").map(|k| k.0), Ok("\"\"".to_string()));
        assert!(Key::parse(&"k".repeat(255)).is_ok());
        assert_eq!(Key::parse(&"k".repeat(256)), Err(KeyError::TooLong));
        assert_eq!(Key::parse("tab\there"), Err(KeyError::NotPrintable));
        assert_eq!(Key::parse("clé"), Err(KeyError::NotPrintable));
    }

    #[test]
    fn fingerprints_tell_method_path_and_body_apart() {
        let base = Fingerprint::of("POST", "/posts", b"{\"a\":1}");
        assert_eq!(base, Fingerprint::of("POST", "/posts", b"{\"a\":1}"));
        assert_eq!(base.as_str().len(), 64);
        assert_ne!(base, Fingerprint::of("POST", "/posts", b"{\"a\":2}"));
        assert_ne!(base, Fingerprint::of("POST", "/orders", b"{\"a\":1}"));
        assert_ne!(base, Fingerprint::of("PUT", "/posts", b"{\"a\":1}"));
    }

    #[test]
    fn scopes_fit_their_column() {
        assert_eq!(KeyScope::of("user", 7).as_str(), "user:7");
        assert_eq!(KeyScope::of("user", "x".repeat(100)).as_str().len(), 64);
    }
}

//! What a rate-limit policy keys its buckets on (`rate_limit.policies.<name>.key`), parsed
//! from one string so a bad value is refused at load with the accepted forms.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How a policy tells callers apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum KeyKind {
    /// `ip`: the client address (IPv6 by /64).
    Ip,
    /// `user`: the signed-in user (or API key); anonymous callers fall back to their address.
    User,
    /// `api_key`: the API key; other callers fall back to their address.
    ApiKey,
    /// `body:FIELD`, or `ip+body:FIELD` together with the client address: a string field of
    /// the JSON or form body, trimmed and lower-cased, for unauthenticated flows (login,
    /// password reset). A body without the field falls back to the client address.
    /// `ip+email` is the older spelling of `ip+body:email`.
    BodyField { field: String, with_ip: bool },
}

/// Longest body field name accepted in a key.
const MAX_FIELD_NAME: usize = 64;

impl TryFrom<String> for KeyKind {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        let body = |rest: &str, with_ip: bool| {
            let valid = !rest.is_empty()
                && rest.len() <= MAX_FIELD_NAME
                && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            valid.then(|| KeyKind::BodyField {
                field: rest.to_string(),
                with_ip,
            })
        };
        let parsed = match raw.as_str() {
            "ip" => Some(KeyKind::Ip),
            "user" => Some(KeyKind::User),
            "api_key" => Some(KeyKind::ApiKey),
            "ip+email" => body("email", true),
            other => match other.strip_prefix("ip+body:") {
                Some(rest) => body(rest, true),
                None => other
                    .strip_prefix("body:")
                    .and_then(|rest| body(rest, false)),
            },
        };
        parsed.ok_or_else(|| {
            format!(
                "expected \"ip\", \"user\", \"api_key\", \"body:FIELD\" or \"ip+body:FIELD\" \
                 (FIELD: up to {MAX_FIELD_NAME} letters, digits or _), got {raw:?}"
            )
        })
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyKind::Ip => f.write_str("ip"),
            KeyKind::User => f.write_str("user"),
            KeyKind::ApiKey => f.write_str("api_key"),
            KeyKind::BodyField {
                field,
                with_ip: true,
            } => write!(f, "ip+body:{field}"),
            KeyKind::BodyField {
                field,
                with_ip: false,
            } => write!(f, "body:{field}"),
        }
    }
}

impl From<KeyKind> for String {
    fn from(kind: KeyKind) -> Self {
        kind.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<KeyKind, String> {
        KeyKind::try_from(raw.to_string())
    }

    #[test]
    fn every_form_round_trips_and_ip_email_is_the_older_spelling() {
        for raw in ["ip", "user", "api_key", "body:email", "ip+body:reset_email"] {
            assert_eq!(parse(raw).map(|k| k.to_string()), Ok(raw.to_string()));
        }
        assert_eq!(parse("ip+email"), parse("ip+body:email"));
    }

    #[test]
    fn bad_kinds_and_field_names_are_refused() {
        let long = format!("body:{}", "f".repeat(MAX_FIELD_NAME + 1));
        for raw in [
            "email",
            "body:",
            "ip+body:",
            "body:e-mail",
            "body:a.b",
            &long,
        ] {
            let err = parse(raw).expect_err(raw);
            assert!(err.starts_with("expected \"ip\""), "{err}");
        }
    }
}

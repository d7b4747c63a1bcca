//! A field of the request body as a rate-limit key (`key = "body:email"`): read once for
//! every policy that needs it and put back for the handler, from a JSON object or an
//! `application/x-www-form-urlencoded` form. Everything here is client-controlled, so the
//! body read and the key length are bounded.

use crate::error::ApiError;
use poem::{Body, Request};
use sha2::{Digest, Sha256};

/// Largest body read on a route keyed by a body field; a login or reset form is far
/// smaller. A larger body is refused (413) rather than keyed without its field, which
/// would let padding buy a fresh quota.
pub const MAX_KEYED_BODY: usize = 64 * 1024;

/// Longest field value used in a key as it is (an email address's maximum); longer values
/// are keyed by their SHA-256.
const MAX_KEYED_VALUE: usize = 254;

/// The request body, read on first use.
#[derive(Default)]
pub struct KeyedBody {
    bytes: Option<Vec<u8>>,
}

impl KeyedBody {
    /// The normalized value of `field`, or `None` when the body has no such string field.
    pub async fn field(&mut self, req: &mut Request, field: &str) -> poem::Result<Option<String>> {
        let bytes = match &mut self.bytes {
            Some(bytes) => bytes,
            empty => empty.insert(read_bounded(req).await?),
        };
        let is_form = req
            .content_type()
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
        let raw = if is_form {
            url::form_urlencoded::parse(bytes)
                .find(|(name, _)| name == field)
                .map(|(_, value)| value.into_owned())
        } else {
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(bytes)
                .ok()
                .and_then(|mut object| match object.remove(field) {
                    Some(serde_json::Value::String(value)) => Some(value),
                    _ => None,
                })
        };
        Ok(raw.as_deref().and_then(normalize))
    }
}

/// Reads the whole body (already bounded by `server.max_body` outside) and puts it back.
async fn read_bounded(req: &mut Request) -> poem::Result<Vec<u8>> {
    let too_large = || {
        ApiError::PayloadTooLarge(format!(
            "a body that sets a rate-limit key is at most {MAX_KEYED_BODY} bytes"
        ))
    };
    let declared = req
        .headers()
        .get(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_KEYED_BODY as u64) {
        return Err(too_large().into());
    }
    let bytes = req.take_body().into_vec().await?;
    if bytes.len() > MAX_KEYED_BODY {
        return Err(too_large().into());
    }
    req.set_body(Body::from(bytes.clone()));
    Ok(bytes)
}

/// Trimmed and lower-cased (`Alice@X.io ` and `alice@x.io` are one caller); empty is no
/// value; a long value is replaced by its hash so a key's length stays bounded.
fn normalize(raw: &str) -> Option<String> {
    let value = raw.trim().to_lowercase();
    if value.is_empty() {
        None
    } else if value.len() > MAX_KEYED_VALUE {
        Some(format!("sha256:{:x}", Sha256::digest(value.as_bytes())))
    } else {
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn field_of(content_type: &str, body: &'static str) -> Option<String> {
        let mut req = Request::builder()
            .content_type(content_type)
            .body(Body::from_string(body.to_string()));
        let value = KeyedBody::default()
            .field(&mut req, "email")
            .await
            .expect("read");
        let left = req.take_body().into_string().await.expect("body");
        assert_eq!(left, body, "the handler still gets the whole body");
        value
    }

    #[tokio::test]
    async fn json_and_form_bodies_give_the_same_normalized_value() {
        let json = field_of("application/json", r#"{"email":" Alice@X.io "}"#).await;
        let form = field_of(
            "application/x-www-form-urlencoded",
            "password=x&email=alice%40x.io",
        )
        .await;
        assert_eq!(json.as_deref(), Some("alice@x.io"));
        assert_eq!(form, json);
        assert_eq!(field_of("application/json", r#"{"email":7}"#).await, None);
        assert_eq!(
            field_of("application/json", r#"{"email":"  "}"#).await,
            None
        );
        assert_eq!(field_of("application/json", "not json").await, None);
    }

    #[test]
    fn long_values_are_hashed_to_a_bounded_key() {
        let long = "a".repeat(10_000);
        let key = normalize(&long).expect("value");
        assert!(key.starts_with("sha256:") && key.len() == 7 + 64, "{key}");
        assert_eq!(normalize(&long.to_uppercase()), Some(key));
        let limit = "b".repeat(MAX_KEYED_VALUE);
        assert_eq!(normalize(&limit).as_deref(), Some(limit.as_str()));
    }

    #[tokio::test]
    async fn a_body_over_the_bound_is_refused() {
        let big = format!(
            r#"{{"email":"a@x.io","pad":"{}"}}"#,
            " ".repeat(MAX_KEYED_BODY)
        );
        let mut req = Request::builder()
            .content_type("application/json")
            .body(Body::from(big));
        let err = KeyedBody::default()
            .field(&mut req, "email")
            .await
            .expect_err("too large");
        assert_eq!(err.status(), poem::http::StatusCode::PAYLOAD_TOO_LARGE);
    }
}

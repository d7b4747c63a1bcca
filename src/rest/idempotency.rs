//! `Idempotency-Key` over HTTP: the header as a handler argument (which also fingerprints
//! the request), replays of stored responses marked `Idempotency-Replayed: true`, and the
//! 400/409/422 problems declared in the OpenAPI document. The decisions are
//! `crate::idempotency`'s; the mapping of its errors is `crate::error`'s.

use super::responses::{DeclaredProblems, Problems};
use crate::error::ApiError;
use crate::idempotency::{
    Fingerprint, Key, KeyError, KeyScope, MAX_KEY_LEN, Outcome, Request, StoredResponse,
};
use poem::web::RequestBody;
use poem::{Body, IntoResponse, Response};
use poem_openapi::registry::{
    MetaHeader, MetaParamIn, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::{ToJSON, Type};
use poem_openapi::{ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions};

/// Marks a replayed response.
pub const REPLAYED_HEADER: &str = "Idempotency-Replayed";

/// The `Idempotency-Key` header of a POST that creates something, with the fingerprint of
/// the request (method, path, body bytes). Declare it before the body argument: it reads
/// the body and puts it back. `REQUIRED` makes its absence a 400.
pub struct IdempotencyKey<const REQUIRED: bool>(Option<(Key, Fingerprint)>);

/// What `Key::parse` accepts, as the document states it.
const KEY_PATTERN: &str = "^[!-~]([ -~]{0,253}[!-~])?$";

impl<const REQUIRED: bool> IdempotencyKey<REQUIRED> {
    /// The request under the caller's keys; `None` when no key was sent.
    pub fn of_caller(self, scope: KeyScope) -> Option<Request> {
        self.0.map(|(key, fingerprint)| Request {
            scope,
            key,
            fingerprint,
        })
    }
}

impl IdempotencyKey<true> {
    /// The request under the caller's keys. Extraction already refused a missing key; the
    /// error here is that same 400, should this ever be reached without one.
    pub fn of_required_caller(self, scope: KeyScope) -> Result<Request, ApiError> {
        self.of_caller(scope)
            .ok_or_else(|| KeyError::Missing.into())
    }
}

/// The key in a header value; 400 when it is malformed, or absent and `required`.
pub fn parse_key(value: Option<&str>, required: bool) -> Result<Option<Key>, ApiError> {
    match value {
        Some(raw) => Ok(Some(Key::parse(raw)?)),
        None if required => Err(KeyError::Missing.into()),
        None => Ok(None),
    }
}

impl<'a, const REQUIRED: bool> ApiExtractor<'a> for IdempotencyKey<REQUIRED> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::Parameter];
    const PARAM_IS_REQUIRED: bool = REQUIRED;
    type ParamType = String;
    type ParamRawType = String;

    fn param_in() -> Option<MetaParamIn> {
        Some(MetaParamIn::Header)
    }

    fn param_schema_ref() -> Option<MetaSchemaRef> {
        Some(MetaSchemaRef::Inline(Box::new(MetaSchema {
            min_length: Some(1),
            max_length: Some(MAX_KEY_LEN),
            // Printable ASCII, neither starting nor ending with a space (HTTP trims those).
            pattern: Some(KEY_PATTERN.into()),
            ..MetaSchema::new("string")
        })))
    }

    async fn from_request(
        request: &'a poem::Request,
        body: &mut RequestBody,
        param_opts: ExtractParamOptions<String>,
    ) -> poem::Result<Self> {
        let value = request.headers().get(param_opts.name).map(|v| {
            // A value that is not visible ASCII is refused like any unprintable key.
            v.to_str().unwrap_or("\u{0}")
        });
        let Some(key) = parse_key(value, REQUIRED)? else {
            return Ok(Self(None));
        };
        // Within the body limit, like the handler's own read of it.
        let bytes = body.take()?.into_bytes().await?;
        let fingerprint = Fingerprint::of(request.method().as_str(), request.uri().path(), &bytes);
        *body = RequestBody::new(Body::from(bytes));
        Ok(Self(Some((key, fingerprint))))
    }
}

/// A JSON response as stored for replays: `body` exactly as a `Json` payload renders it.
pub fn stored_json<T: ToJSON>(status: u16, body: &T) -> StoredResponse {
    StoredResponse {
        status,
        headers: Vec::new(),
        body: body.to_json_string(),
    }
}

/// A fresh response is `T`; a replay is the stored one, marked with
/// `Idempotency-Replayed: true`. The document declares `T`'s responses: a replay repeats one.
impl<T: ApiResponse> ApiResponse for Outcome<T> {
    fn meta() -> MetaResponses {
        let mut meta = T::meta();
        for response in &mut meta.responses {
            response.headers.push(MetaHeader {
                name: REPLAYED_HEADER.into(),
                description: Some(
                    "`true` on a replay: the stored response of an earlier request with this `Idempotency-Key`.".into(),
                ),
                required: false,
                deprecated: false,
                schema: bool::schema_ref(),
            });
        }
        meta
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: IntoResponse> IntoResponse for Outcome<T> {
    fn into_response(self) -> Response {
        match self {
            Outcome::Fresh(fresh) => fresh.into_response(),
            Outcome::Replayed(stored) => {
                let mut response = Response::builder()
                    .status(
                        poem::http::StatusCode::from_u16(stored.status)
                            .unwrap_or(poem::http::StatusCode::OK),
                    )
                    .content_type("application/json; charset=utf-8")
                    .header(REPLAYED_HEADER, "true");
                for (name, value) in &stored.headers {
                    response = response.header(name.as_str(), value.as_str());
                }
                response.body(stored.body)
            }
        }
    }
}

/// The problems of an idempotent POST: 400, 409 and 422 about its key.
pub struct KeyProblems;

impl DeclaredProblems for KeyProblems {
    const PROBLEMS: &'static [(u16, &'static str)] = &[
        (
            400,
            "`Idempotency-Key` is malformed (1–255 printable ASCII characters), or missing where required.",
        ),
        (
            409,
            "A request with this `Idempotency-Key` is still being processed; retry once it has been answered.",
        ),
        (
            422,
            "This `Idempotency-Key` was used with a different request (method, path or body).",
        ),
    ];
}

/// The errors of an idempotent POST: [`ApiError`], with the key's problems declared.
pub type IdempotentError = Problems<KeyProblems>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_required_key_that_is_missing_or_malformed_is_a_400() {
        let missing = parse_key(None, true).expect_err("required");
        assert_eq!(missing.status().as_u16(), 400);
        assert!(missing.to_string().contains("Idempotency-Key"), "{missing}");
        assert_eq!(parse_key(None, false).expect("optional"), None);
        let long = parse_key(Some(&"k".repeat(256)), false).expect_err("too long");
        assert_eq!(long.status().as_u16(), 400);
        assert!(parse_key(Some("order-1"), true).expect("valid").is_some());
    }
}

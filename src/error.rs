//! The API's error type and the one place where every error — levee's own, poem's and
//! poem-openapi's — becomes an RFC 9457 `application/problem+json` response.

use poem::http::StatusCode;
use poem::http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use poem::{IntoResponse, Response};
use serde::Serialize;
use std::time::Duration;

/// One invalid input: a JSON pointer into the body, or a query/path parameter name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    pub detail: String,
}

impl FieldError {
    pub fn at(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            pointer: Some(pointer.into()),
            parameter: None,
            detail: detail.into(),
        }
    }

    pub fn parameter(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            pointer: None,
            parameter: Some(name.into()),
            detail: detail.into(),
        }
    }
}

/// Errors a handler may answer with; each maps to exactly one status. Cloneable so one
/// failed load can answer every request that waited on it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{detail}")]
    Conflict {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: u64 },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{detail}")]
    Invalid {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("the server is at capacity; retry in {retry_after} s")]
    Overloaded { retry_after: u64 },
    #[error("the request did not finish within {} and was abandoned", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error("{0}")]
    Unavailable(String),
    /// Logged with the request id; the client only learns that something failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Overloaded { .. } | ApiError::Timeout(_) | ApiError::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::Timeout(_) => "timeout",
            ApiError::Invalid { .. } => "invalid-fields",
            _ => kind_of(self.status()),
        }
    }

    pub fn problem(&self) -> Problem {
        let detail = match self {
            ApiError::Internal(_) => "the server failed to handle this request".to_string(),
            other => other.to_string(),
        };
        let mut problem = Problem::new(self.status(), self.kind(), detail);
        match self {
            ApiError::Invalid { errors, .. } | ApiError::Conflict { errors, .. } => {
                problem.errors = errors.clone()
            }
            ApiError::Overloaded { retry_after }
            | ApiError::TooManyRequests { retry_after, .. } => {
                problem.retry_after = Some(*retry_after)
            }
            ApiError::Timeout(_) | ApiError::Unavailable(_) => problem.retry_after = Some(1),
            _ => {}
        }
        problem
    }
}

impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        ApiError::status(self)
    }

    fn as_response(&self) -> Response {
        self.problem().into_response()
    }
}

impl ApiError {
    /// A 422 for a single invalid field.
    pub fn invalid(error: FieldError) -> Self {
        ApiError::Invalid {
            detail: format!("invalid field: {}", error.detail),
            errors: vec![error],
        }
    }

    /// A 409 for a unique value already in use: `detail` names the clash, `pointer` the field.
    pub fn taken(detail: impl Into<String>, pointer: &str) -> Self {
        ApiError::Conflict {
            detail: detail.into(),
            errors: vec![FieldError::at(pointer, "is already taken")],
        }
    }

    /// A 422 listing every invalid field.
    pub fn fields(errors: Vec<FieldError>) -> Self {
        let names: Vec<&str> = errors
            .iter()
            .filter_map(|e| e.pointer.as_deref().or(e.parameter.as_deref()))
            .collect();
        ApiError::Invalid {
            detail: format!("invalid fields: {}", names.join(", ")),
            errors,
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        match err {
            sea_orm::DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout) => {
                ApiError::Unavailable(
                    "the database is saturated: no connection became free in time".into(),
                )
            }
            // Lost or refused connections are transient: 503 so clients retry (a replica
            // that caused it has already left the rotation, see `db::ReadConn`).
            sea_orm::DbErr::Conn(_) | sea_orm::DbErr::ConnectionAcquire(_) => {
                tracing::warn!(error = %err, "a database connection failed");
                ApiError::Unavailable("a database connection failed; retry shortly".into())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::db::pagination::InvalidCursor> for ApiError {
    fn from(err: crate::db::pagination::InvalidCursor) -> Self {
        ApiError::Invalid {
            detail: "invalid query parameter `cursor`".into(),
            errors: vec![FieldError::parameter("cursor", err.to_string())],
        }
    }
}

impl From<crate::cache::CacheError> for ApiError {
    fn from(err: crate::cache::CacheError) -> Self {
        ApiError::Internal(err.to_string())
    }
}

/// The problem+json body.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Extension members (RFC 9457 §3.2), e.g. readiness check results.
    #[serde(flatten)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:levee:problem:{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            instance: None,
            request_id: None,
            errors: Vec::new(),
            extensions: serde_json::Map::new(),
            retry_after: None,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut builder = Response::builder()
            .status(StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header(CONTENT_TYPE, "application/problem+json");
        if let Some(secs) = self.retry_after {
            builder = builder.header(RETRY_AFTER, secs.to_string());
        }
        if self.status == StatusCode::UNAUTHORIZED.as_u16() {
            builder = builder.header(WWW_AUTHENTICATE, "Bearer");
        }
        builder.body(body)
    }
}

fn kind_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad-request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload-too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid-fields",
        StatusCode::TOO_MANY_REQUESTS => "rate-limited",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal",
        _ => "error",
    }
}

/// A body read aborted because it outgrew `server.max_body`.
#[derive(Debug, thiserror::Error)]
#[error("the request body is larger than the {limit}-byte limit")]
pub struct BodyTooLarge {
    pub limit: u64,
}

/// Any error that reached the edge of the app, as a problem. Internal details of 5xx
/// errors are logged here and never sent.
pub fn problem_for(err: &poem::Error) -> Problem {
    use poem::error::{MethodNotAllowedError, NotFoundError, ReadBodyError};
    use poem_openapi::error::{
        AuthorizationError, ContentTypeError, ParseParamError, ParsePathError,
        ParseRequestPayloadError,
    };

    if let Some(api) = err.downcast_ref::<ApiError>() {
        if let ApiError::Internal(message) = api {
            tracing::error!(error = %message, "request failed");
        }
        return api.problem();
    }
    if let Some(ReadBodyError::Io(io)) = err.downcast_ref::<ReadBodyError>()
        && let Some(too_large) = find_in_chain::<BodyTooLarge>(io)
    {
        return ApiError::PayloadTooLarge(too_large.to_string()).problem();
    }
    let api = if err.is::<NotFoundError>() {
        ApiError::NotFound("no resource exists at this path".into())
    } else if err.is::<MethodNotAllowedError>() {
        let problem = Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "this path does not support the request method",
        );
        return problem;
    } else if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        payload_error(&e.reason)
    } else if let Some(e) = err.downcast_ref::<ParseParamError>() {
        ApiError::Invalid {
            detail: format!("invalid query parameter `{}`", e.name),
            errors: vec![FieldError::parameter(e.name, e.reason.clone())],
        }
    } else if let Some(e) = err.downcast_ref::<ParsePathError>() {
        ApiError::NotFound(format!("no resource matches this `{}`", e.name))
    } else if err.is::<AuthorizationError>() {
        ApiError::Unauthorized(
            "this operation needs `Authorization: Bearer <access token or API key>`".into(),
        )
    } else if let Some(e) = err.downcast_ref::<ContentTypeError>() {
        ApiError::UnsupportedMediaType(format!("{e}; send application/json"))
    } else if err.status().is_server_error() {
        tracing::error!(error = %err, "request failed");
        return Problem::new(
            err.status(),
            kind_of(err.status()),
            "the server failed to handle this request",
        );
    } else {
        return Problem::new(err.status(), kind_of(err.status()), err.to_string());
    };
    api.problem()
}

/// Finds a `T` among the causes of `err`, looking inside `io::Error` wrappers too (their
/// `source()` skips the wrapped error itself).
fn find_in_chain<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current = err;
    loop {
        if let Some(found) = current.downcast_ref::<T>() {
            return Some(found);
        }
        current = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &'a (dyn std::error::Error + 'static)),
            None => current.source(),
        }?;
    }
}

/// Syntax errors in the JSON are 400; well-formed JSON of the wrong shape is 422.
fn payload_error(reason: &str) -> ApiError {
    let is_syntax = reason.contains(" at line ") || reason.contains("EOF while parsing");
    if is_syntax {
        ApiError::BadRequest(format!("the body is not valid JSON: {reason}"))
    } else {
        ApiError::Invalid {
            detail: format!("the body does not match the expected shape: {reason}"),
            errors: Vec::new(),
        }
    }
}

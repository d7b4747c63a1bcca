//! The API's error type and the one place where every error — levee's own, poem's and
//! poem-openapi's — becomes an RFC 9457 `application/problem+json` response.

mod edge;
mod problem;

pub use edge::{BodyTooLarge, problem_for};
pub use problem::Problem;

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use problem::kind_of;
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
    /// 403 of its own type (`email-unverified`): the caller can fix it by verifying.
    #[error("{0}")]
    EmailUnverified(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{detail}")]
    Conflict {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// `If-Match` named no current version of the resource.
    #[error("{0}")]
    PreconditionFailed(String),
    /// `If-Match` is required for this write and was not sent.
    #[error("{0}")]
    PreconditionRequired(String),
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
    /// A dependency's circuit breaker is open: retry once it lets a probe through.
    #[error("{detail}")]
    CircuitOpen { detail: String, retry_after: u64 },
    /// Logged with the request id; the client only learns that something failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::EmailUnverified(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Overloaded { .. }
            | ApiError::Timeout(_)
            | ApiError::Unavailable(_)
            | ApiError::CircuitOpen { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::Timeout(_) => "timeout",
            ApiError::Invalid { .. } => "invalid-fields",
            ApiError::EmailUnverified(_) => "email-unverified",
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
            | ApiError::TooManyRequests { retry_after, .. }
            | ApiError::CircuitOpen { retry_after, .. } => problem.retry_after = Some(*retry_after),
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
        // Not logged: the breaker logged when it opened and counts its rejections.
        if let Some(rejected) = crate::db::rejection(&err) {
            let retry_after = rejected.retry_after_secs();
            return ApiError::CircuitOpen {
                detail: format!("the database is unavailable; retry in {retry_after} s"),
                retry_after,
            };
        }
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

impl From<crate::idempotency::KeyError> for ApiError {
    fn from(err: crate::idempotency::KeyError) -> Self {
        ApiError::BadRequest(err.to_string())
    }
}

impl From<crate::idempotency::IdempotencyError> for ApiError {
    fn from(err: crate::idempotency::IdempotencyError) -> Self {
        use crate::idempotency::IdempotencyError as E;
        match err {
            E::InFlight | E::ClaimLost => ApiError::Conflict {
                detail: err.to_string(),
                errors: Vec::new(),
            },
            E::Mismatch => ApiError::Invalid {
                detail: err.to_string(),
                errors: vec![FieldError::parameter(
                    "Idempotency-Key",
                    "was used with a different request",
                )],
            },
            E::Db(e) => e.into(),
        }
    }
}

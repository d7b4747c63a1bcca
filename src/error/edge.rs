//! Errors that reach the edge of the app — levee's own, poem's and poem-openapi's — as
//! problems.

use super::problem::kind_of;
use super::{ApiError, FieldError, Problem};
use poem::http::StatusCode;

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

//! How errors appear in the OpenAPI document: every operation may answer with an
//! `application/problem+json` body (RFC 9457). Handlers return `Result<_, ApiError>`.

use crate::error::ApiError;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::{Example, Type};
use poem_openapi::{ApiResponse, Object};

/// An RFC 9457 problem.
#[derive(Object)]
#[oai(rename = "Problem", example)]
struct ProblemSchema {
    /// A URI naming the kind of problem, e.g. `urn:levee:problem:invalid-fields`.
    #[oai(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    /// What went wrong, for people.
    detail: String,
    /// The request path.
    instance: Option<String>,
    /// Quote it when reporting a problem; it is in the logs too.
    request_id: Option<String>,
    /// For 409 and 422: each invalid field, by JSON pointer or parameter name.
    errors: Option<Vec<FieldErrorSchema>>,
}

#[derive(Object)]
#[oai(rename = "FieldError")]
struct FieldErrorSchema {
    pointer: Option<String>,
    parameter: Option<String>,
    detail: String,
}

impl Example for ProblemSchema {
    fn example() -> Self {
        Self {
            kind: "urn:levee:problem:invalid-fields".into(),
            title: "Unprocessable Entity".into(),
            status: 422,
            detail: "invalid fields: /title".into(),
            instance: Some("/posts".into()),
            request_id: Some("0192f4c5-3b7a-7d21-9e4f-6a5b8c7d9e01".into()),
            errors: Some(vec![FieldErrorSchema {
                pointer: Some("/title".into()),
                parameter: None,
                detail: "must not be empty".into(),
            }]),
        }
    }
}

fn problem_response(description: &'static str, range: &str) -> MetaResponse {
    MetaResponse {
        description,
        status: None,
        status_range: Some(range.to_string()),
        content: vec![MetaMediaType {
            content_type: "application/problem+json",
            schema: ProblemSchema::schema_ref(),
        }],
        headers: Vec::new(),
    }
}

impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![
                problem_response(
                    "The request was refused; `detail` says why, `errors` names invalid fields.",
                    "4XX",
                ),
                problem_response(
                    "The server could not answer now (overloaded, timed out, or failed); retry later.",
                    "5XX",
                ),
            ],
        }
    }

    fn register(registry: &mut Registry) {
        ProblemSchema::register(registry);
    }
}

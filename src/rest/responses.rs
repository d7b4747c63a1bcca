//! Response shapes shared by every feature's API.

use crate::error::ApiError;
use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::ToJSON;
use std::marker::PhantomData;

/// 201 with the created resource.
#[derive(ApiResponse)]
pub enum Created<T: ToJSON> {
    /// Created.
    #[oai(status = 201)]
    Created(Json<T>),
}

/// 204 with no body.
#[derive(ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    Done,
}

/// Statuses an operation answers with beyond [`ApiError`]'s generic `4XX`/`5XX`, each
/// with what it means, declared in the OpenAPI document of the operations that may.
pub trait DeclaredProblems {
    const PROBLEMS: &'static [(u16, &'static str)];
}

/// [`ApiError`], with the problems `P` lists declared in the OpenAPI document.
pub struct Problems<P>(pub ApiError, PhantomData<fn() -> P>);

impl<P> std::fmt::Debug for Problems<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<P, E: Into<ApiError>> From<E> for Problems<P> {
    fn from(err: E) -> Self {
        Problems(err.into(), PhantomData)
    }
}

impl<P> From<Problems<P>> for poem::Error {
    fn from(err: Problems<P>) -> Self {
        err.0.into()
    }
}

impl<P> poem::IntoResponse for Problems<P> {
    fn into_response(self) -> poem::Response {
        poem::error::ResponseError::as_response(&self.0)
    }
}

impl<P: DeclaredProblems> ApiResponse for Problems<P> {
    fn meta() -> MetaResponses {
        let mut errors = ApiError::meta().responses;
        let content = || {
            errors
                .iter()
                .flat_map(|r| &r.content)
                .take(1)
                .map(|c| MetaMediaType {
                    content_type: c.content_type,
                    schema: c.schema.clone(),
                })
                .collect()
        };
        let mut responses: Vec<MetaResponse> = P::PROBLEMS
            .iter()
            .map(|&(status, description)| MetaResponse {
                description,
                status: Some(status),
                status_range: None,
                content: content(),
                headers: Vec::new(),
            })
            .collect();
        responses.append(&mut errors);
        MetaResponses { responses }
    }

    fn register(registry: &mut Registry) {
        ApiError::register(registry);
    }
}

//! What can go wrong with webhooks, and the one status each answers with.

use crate::error::{ApiError, FieldError};
use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum WebhooksError {
    #[error("no such webhook endpoint")]
    EndpointNotFound,
    #[error("no such webhook delivery")]
    DeliveryNotFound,
    #[error("the endpoint is not valid")]
    Fields(Vec<FieldError>),
    #[error("at most {0} webhook endpoints may be registered (webhooks.max_endpoints)")]
    TooMany(u64),
    #[error("the webhook client cannot be built: {0}")]
    Client(#[from] reqwest::Error),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<WebhooksError> for ApiError {
    fn from(err: WebhooksError) -> Self {
        match err {
            WebhooksError::EndpointNotFound | WebhooksError::DeliveryNotFound => {
                ApiError::NotFound(err.to_string())
            }
            WebhooksError::Fields(errors) => ApiError::fields(errors),
            WebhooksError::TooMany(_) => ApiError::Conflict {
                detail: err.to_string(),
                errors: Vec::new(),
            },
            WebhooksError::Db(e) => e.into(),
            WebhooksError::Client(_) => ApiError::Internal(err.to_string()),
        }
    }
}

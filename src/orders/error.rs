//! What can go wrong with orders, and the one status each answers with.

use super::model::OrderStatus;
use crate::error::{ApiError, FieldError};
use crate::inventory::StockError;
use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum OrdersError {
    /// Also for orders of other customers: their existence is not disclosed.
    #[error("no such order")]
    NotFound,
    /// Lines naming SKUs that cannot be ordered, or mixing currencies.
    #[error("some lines cannot be ordered")]
    Lines(Vec<FieldError>),
    #[error("the order is {} and can no longer be cancelled", .0.as_str())]
    NotCancellable(OrderStatus),
    #[error("the order's stock could not be moved: {0}")]
    Stock(#[from] StockError),
    #[error("the confirmation email cannot be rendered: {0}")]
    Mail(#[from] crate::mail::MailError),
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Idempotency(#[from] crate::idempotency::IdempotencyError),
}

impl From<OrdersError> for ApiError {
    fn from(err: OrdersError) -> Self {
        match err {
            OrdersError::NotFound => ApiError::NotFound(err.to_string()),
            OrdersError::Lines(errors) => ApiError::fields(errors),
            OrdersError::NotCancellable(_) => ApiError::Conflict {
                detail: err.to_string(),
                errors: Vec::new(),
            },
            OrdersError::Db(e) => e.into(),
            OrdersError::Idempotency(e) => e.into(),
            OrdersError::Stock(_) | OrdersError::Mail(_) => ApiError::Internal(err.to_string()),
        }
    }
}

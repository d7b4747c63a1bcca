//! What can go wrong moving stock, and the one status each answers with.

use crate::error::{ApiError, FieldError};
use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum StockError {
    #[error("not enough stock: {available} available")]
    Insufficient { available: i64 },
    #[error("the product has no inventory record")]
    NotFound,
    #[error("the quantity must be at least 1 (an adjustment must not be 0)")]
    InvalidQuantity,
    #[error(
        "an adjustment moves at most {max} units either way and leaves at most {max} on hand",
        max = super::MAX_STOCK
    )]
    OutOfRange,
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<StockError> for ApiError {
    fn from(err: StockError) -> Self {
        match err {
            StockError::Insufficient { .. } => ApiError::Conflict {
                detail: err.to_string(),
                errors: Vec::new(),
            },
            StockError::NotFound => ApiError::NotFound("no such product".into()),
            StockError::InvalidQuantity | StockError::OutOfRange => {
                ApiError::invalid(FieldError::at("/delta", err.to_string()))
            }
            StockError::Db(e) => e.into(),
        }
    }
}

//! What can go wrong with products, and the one status each answers with.

use crate::cache::CacheError;
use crate::error::ApiError;
use sea_orm::DbErr;

/// Cloneable so one failed cache load can answer every request that waited on it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProductsError {
    #[error("another product already uses this SKU")]
    SkuTaken,
    #[error("no such product")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl From<ProductsError> for ApiError {
    fn from(err: ProductsError) -> Self {
        match err {
            ProductsError::SkuTaken => ApiError::taken(err.to_string(), "/sku"),
            ProductsError::NotFound => ApiError::NotFound(err.to_string()),
            ProductsError::Db(e) => e.into(),
            ProductsError::Cache(e) => e.into(),
        }
    }
}

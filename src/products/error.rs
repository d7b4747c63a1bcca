//! What can go wrong with products, and the one status each answers with.

use crate::cache::CacheError;
use crate::db::SaveError;
use crate::error::ApiError;
use sea_orm::DbErr;

/// Cloneable so one failed cache load can answer every request that waited on it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProductsError {
    #[error("another product already uses this SKU")]
    SkuTaken,
    #[error("no such product")]
    NotFound,
    /// Another change saved a new version between this one's read and its write.
    #[error("the product changed while this change was made; reload it and retry")]
    Changed,
    /// `If-Match` names no current version.
    #[error("the product has changed since the version named by If-Match; reload it and retry")]
    PreconditionFailed,
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl ProductsError {
    /// A failed save of a row at `version`: a lost race is 412 for a client that named
    /// the version it edits (`conditional`), else 409.
    pub(super) fn saving(err: SaveError, conditional: bool) -> Self {
        match err {
            SaveError::Taken => ProductsError::SkuTaken,
            SaveError::Stale if conditional => ProductsError::PreconditionFailed,
            SaveError::Stale => ProductsError::Changed,
            SaveError::Db(e) => e.into(),
        }
    }
}

impl From<ProductsError> for ApiError {
    fn from(err: ProductsError) -> Self {
        match err {
            ProductsError::SkuTaken => ApiError::taken(err.to_string(), "/sku"),
            ProductsError::NotFound => ApiError::NotFound(err.to_string()),
            ProductsError::Changed => ApiError::Conflict {
                detail: err.to_string(),
                errors: Vec::new(),
            },
            ProductsError::PreconditionFailed => ApiError::PreconditionFailed(err.to_string()),
            ProductsError::Db(e) => e.into(),
            ProductsError::Cache(e) => e.into(),
        }
    }
}

//! What can go wrong with posts, and the one status each answers with.

use crate::cache::CacheError;
use crate::error::ApiError;
use sea_orm::DbErr;

/// Cloneable so one failed cache load can answer every request that waited on it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PostsError {
    #[error("another post already uses this slug")]
    SlugTaken,
    #[error("no such post")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl From<PostsError> for ApiError {
    fn from(err: PostsError) -> Self {
        match err {
            PostsError::SlugTaken => ApiError::taken(err.to_string(), "/slug"),
            PostsError::NotFound => ApiError::NotFound(err.to_string()),
            PostsError::Db(e) => e.into(),
            PostsError::Cache(e) => e.into(),
        }
    }
}

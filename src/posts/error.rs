//! What can go wrong with posts, and the one status each answers with.

use crate::cache::CacheError;
use crate::db::SaveError;
use crate::error::ApiError;
use crate::idempotency::IdempotencyError;
use sea_orm::DbErr;

/// Cloneable so one failed cache load can answer every request that waited on it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PostsError {
    #[error("another post already uses this slug")]
    SlugTaken,
    #[error("no such post")]
    NotFound,
    /// Another change saved a new version between this one's read and its write.
    #[error("the post changed while this change was made; reload it and retry")]
    Changed,
    /// `If-Match` names no current version.
    #[error("the post has changed since the version named by If-Match; reload it and retry")]
    PreconditionFailed,
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
}

impl PostsError {
    /// A failed save of a row at `version`: a lost race is 412 for a client that named
    /// the version it edits (`conditional`), else 409.
    pub(super) fn saving(err: SaveError, conditional: bool) -> Self {
        match err {
            SaveError::Taken => PostsError::SlugTaken,
            SaveError::Stale if conditional => PostsError::PreconditionFailed,
            SaveError::Stale => PostsError::Changed,
            SaveError::Db(e) => e.into(),
        }
    }
}

impl From<PostsError> for ApiError {
    fn from(err: PostsError) -> Self {
        match err {
            PostsError::SlugTaken => ApiError::taken(err.to_string(), "/slug"),
            PostsError::NotFound => ApiError::NotFound(err.to_string()),
            PostsError::Changed => ApiError::Conflict {
                detail: err.to_string(),
                errors: Vec::new(),
            },
            PostsError::PreconditionFailed => ApiError::PreconditionFailed(err.to_string()),
            PostsError::Db(e) => e.into(),
            PostsError::Cache(e) => e.into(),
            PostsError::Idempotency(e) => e.into(),
        }
    }
}

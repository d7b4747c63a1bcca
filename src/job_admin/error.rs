//! What the job admin endpoints can fail with, and the one mapping to problem statuses.

use crate::error::{ApiError, FieldError};
use crate::jobs::JobState;
use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum JobAdminError {
    #[error("no such job")]
    NotFound,
    /// Only finished or failed jobs run again.
    #[error("a job that is {0:?} cannot be retried")]
    NotRetryable(JobState),
    /// Only jobs that have not started can be cancelled.
    #[error("a job that is {0:?} cannot be cancelled")]
    NotCancellable(JobState),
    /// A replay must name the kind whose dead jobs run again.
    #[error("must name a job kind")]
    NoKind,
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<JobAdminError> for ApiError {
    fn from(e: JobAdminError) -> Self {
        match e {
            JobAdminError::NotFound => ApiError::NotFound(e.to_string()),
            JobAdminError::NotRetryable(_) | JobAdminError::NotCancellable(_) => {
                ApiError::Conflict {
                    detail: e.to_string().to_lowercase(),
                    errors: Vec::new(),
                }
            }
            JobAdminError::NoKind => ApiError::invalid(FieldError::at("/kind", e.to_string())),
            JobAdminError::Db(e) => e.into(),
        }
    }
}

//! What can go wrong with reports, and the one status each answers with.

use super::model::ReportStatus;
use crate::error::ApiError;
use crate::idempotency::IdempotencyError;
use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum ReportsError {
    /// Also for expired reports: their files are gone.
    #[error("no such report (reports expire after reports.retention)")]
    NotFound,
    /// The file exists only once the report is `done`.
    #[error("the report is {} and has no file to download yet", .0.as_str())]
    NotReady(ReportStatus),
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
}

impl From<ReportsError> for ApiError {
    fn from(err: ReportsError) -> Self {
        match err {
            ReportsError::NotFound => ApiError::NotFound(err.to_string()),
            ReportsError::NotReady(_) => ApiError::Conflict {
                detail: err.to_string(),
                errors: Vec::new(),
            },
            ReportsError::Db(e) => e.into(),
            ReportsError::Idempotency(e) => e.into(),
        }
    }
}

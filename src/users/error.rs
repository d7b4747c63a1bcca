//! What can go wrong with user accounts, and the one mapping of it to problem statuses.

use crate::error::{ApiError, FieldError};
use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("no such user")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<UsersError> for ApiError {
    fn from(err: UsersError) -> Self {
        match err {
            UsersError::EmailTaken => ApiError::Conflict {
                detail: err.to_string(),
                errors: vec![FieldError::at("/email", "is already registered")],
            },
            UsersError::NotFound => ApiError::NotFound(err.to_string()),
            UsersError::Db(e) => e.into(),
        }
    }
}

//! What can go wrong in account self-service, and the one mapping of it to problem statuses.

use super::model::Refusal;
use crate::auth::password::HashError;
use crate::error::{ApiError, FieldError};
use crate::mail::MailError;
use crate::users::UsersError;
use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    /// One invalid input field (422).
    #[error("invalid field: {}", .0.detail)]
    Field(FieldError),
    /// A token that does not work (400), with the reason.
    #[error("{}", .0.detail())]
    Token(Refusal),
    #[error("the link can no longer be used: the account is disabled")]
    Disabled,
    #[error("your email address is already verified")]
    AlreadyVerified,
    #[error(
        "verify your email address before placing orders: open the link in the email we sent, \
         or ask for a new one with POST /auth/verify-email/resend"
    )]
    EmailUnverified,
    #[error(transparent)]
    Users(#[from] UsersError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<AccountsError> for ApiError {
    fn from(err: AccountsError) -> Self {
        match err {
            AccountsError::Field(error) => ApiError::invalid(error),
            AccountsError::Token(_) | AccountsError::Disabled => {
                ApiError::BadRequest(err.to_string())
            }
            AccountsError::AlreadyVerified => ApiError::Conflict {
                detail: err.to_string(),
                errors: Vec::new(),
            },
            AccountsError::EmailUnverified => ApiError::EmailUnverified(err.to_string()),
            AccountsError::Users(e) => e.into(),
            AccountsError::Hash(e) => ApiError::Internal(e.to_string()),
            AccountsError::Mail(e) => e.into(),
            AccountsError::Db(e) => e.into(),
        }
    }
}

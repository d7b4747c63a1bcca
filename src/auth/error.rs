//! What can go wrong while authenticating or managing credentials, and the one mapping of
//! it to problem statuses (401s carry `WWW-Authenticate: Bearer`, added by the problem body).

use super::TokenError;
use super::password::HashError;
use super::throttle::Refused;
use crate::error::{ApiError, FieldError};
use crate::mail::MailError;
use crate::users::UsersError;
use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// One invalid input field (422).
    #[error("invalid field: {}", .0.detail)]
    Field(FieldError),
    /// Several invalid input fields, all reported at once (422).
    #[error("invalid fields")]
    Fields(Vec<FieldError>),
    #[error("invalid email or password")]
    BadCredentials,
    #[error("this account is disabled")]
    Disabled,
    #[error("too many failed logins; try again later")]
    Throttled { retry_after: u64 },
    #[error("failed logins cannot be counted right now; retry shortly")]
    ThrottleUnavailable,
    #[error("the refresh token is invalid, expired or revoked; sign in again")]
    BadRefreshToken,
    #[error("the API key is unknown, revoked or expired")]
    BadApiKey,
    #[error("{0}")]
    BadAccessToken(TokenError),
    #[error("no such API key")]
    NoSuchApiKey,
    #[error(transparent)]
    Users(#[from] UsersError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Accounts(#[from] crate::accounts::AccountsError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<TokenError> for AuthError {
    fn from(err: TokenError) -> Self {
        match err {
            TokenError::Db(e) => AuthError::Db(e),
            other => AuthError::BadAccessToken(other),
        }
    }
}

impl From<Refused> for AuthError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Locked(retry_after) => AuthError::Throttled { retry_after },
            Refused::Unavailable => AuthError::ThrottleUnavailable,
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Field(error) => ApiError::invalid(error),
            AuthError::Fields(errors) => ApiError::fields(errors),
            AuthError::BadCredentials
            | AuthError::Disabled
            | AuthError::BadRefreshToken
            | AuthError::BadApiKey
            | AuthError::BadAccessToken(_) => ApiError::Unauthorized(err.to_string()),
            AuthError::Throttled { retry_after } => ApiError::TooManyRequests {
                detail: err.to_string(),
                retry_after,
            },
            AuthError::ThrottleUnavailable => ApiError::Unavailable(err.to_string()),
            AuthError::NoSuchApiKey => ApiError::NotFound(err.to_string()),
            AuthError::Users(e) => e.into(),
            AuthError::Hash(e) => ApiError::Internal(e.to_string()),
            AuthError::Mail(e) => e.into(),
            AuthError::Accounts(e) => e.into(),
            AuthError::Db(e) => e.into(),
        }
    }
}

//! What can go wrong with outgoing email and the outbox, and the one mapping of it to
//! problem statuses.

use crate::error::ApiError;
use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("rendering the email failed: {0}")]
    Render(#[from] askama::Error),
    #[error("mail.smtp_url: {0}")]
    Transport(lettre::transport::smtp::Error),
    #[error("not a mailbox: {0}")]
    Address(lettre::address::AddressError),
    #[error("{0}")]
    Build(lettre::error::Error),
    #[error("no such message in the outbox")]
    NotInOutbox,
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<MailError> for ApiError {
    fn from(err: MailError) -> Self {
        match err {
            MailError::NotInOutbox => ApiError::NotFound(err.to_string()),
            MailError::Db(e) => e.into(),
            MailError::Render(_)
            | MailError::Transport(_)
            | MailError::Address(_)
            | MailError::Build(_) => ApiError::Internal(err.to_string()),
        }
    }
}

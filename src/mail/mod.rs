//! Outgoing email. Messages are rendered when they are enqueued (so a queued job survives
//! template changes) and delivered by `email.send` jobs on the `mail` queue: over SMTP
//! (lettre) when `mail.smtp_url` is set, otherwise into the `mail_outbox` table that admins
//! read at `GET /mail/outbox`.

pub mod api;
mod outbox;
mod sender;
mod templates;

use crate::config::MailConfig;
use crate::error::ApiError;
use crate::jobs::{JobKind, Registry};
use sender::Mailer;
use serde::{Deserialize, Serialize};

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
}

impl From<MailError> for ApiError {
    fn from(err: MailError) -> Self {
        ApiError::Internal(err.to_string())
    }
}

/// One rendered email to one recipient.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendEmail {
    /// The recipient's address.
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl JobKind for SendEmail {
    const NAME: &'static str = "email.send";
    /// Its own queue, so a slow SMTP server cannot hold every `default` slot.
    const QUEUE: &'static str = "mail";
    /// Mail servers defer (4xx, greylisting) for minutes: with the default backoff,
    /// 8 attempts span about 10 minutes.
    const MAX_ATTEMPTS: i32 = 8;
}

/// The welcome email for a newly registered account.
pub fn welcome(config: &MailConfig, user: &crate::users::Model) -> Result<SendEmail, MailError> {
    let rendered = templates::welcome(&user.name, &user.email, &config.site_name)?;
    Ok(SendEmail {
        to: user.email.clone(),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
    })
}

/// Registers the `email.send` handler, delivering through the mailer `config` describes.
pub fn register_jobs(registry: &mut Registry, config: &MailConfig) -> Result<(), MailError> {
    let mailer = Mailer::new(config)?;
    registry.register::<SendEmail, _, _>(move |message, ctx| {
        let mailer = mailer.clone();
        async move { mailer.deliver(message, ctx).await }
    });
    Ok(())
}

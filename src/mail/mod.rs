//! Outgoing email. Messages are rendered when they are enqueued (so a queued job survives
//! template changes) and delivered by `email.send` jobs on the `mail` queue: over SMTP
//! (lettre) when `mail.smtp_url` is set, otherwise into the `mail_outbox` table that admins
//! read at `GET /mail/outbox`.

pub mod api;
mod error;
mod model;
mod outbox;
mod sender;
mod service;
mod templates;

pub use error::MailError;
pub use model::SendEmail;
pub use outbox::{Model as StoredMessage, forget_recipient, to_recipient};
pub use service::{account_email, order_confirmation, register_jobs};
pub use templates::{AccountEmail, WebhookDisabledText, webhook_disabled};

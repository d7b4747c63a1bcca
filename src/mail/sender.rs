//! Delivery of `email.send` jobs: over SMTP when `mail.smtp_url` is set, otherwise into the
//! outbox table. Delivery is at least once: a job may run again after a crash or a lost
//! reply, so each message carries a `Message-ID` derived from its job id, which lets
//! receivers drop the duplicate.

use super::{MailError, SendEmail, outbox};
use crate::config::MailConfig;
use crate::db::ids::JobId;
use crate::jobs::{JobContext, Outcome};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Where messages go; built once per process, its SMTP connections pooled.
#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    Outbox,
}

impl Mailer {
    pub fn new(config: &MailConfig) -> Result<Self, MailError> {
        let Some(url) = &config.smtp_url else {
            return Ok(Mailer::Outbox);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(MailError::Transport)?
            .timeout(Some(config.timeout.get()))
            .build();
        let from = config.from.parse().map_err(MailError::Address)?;
        Ok(Mailer::Smtp { transport, from })
    }

    /// Sends (or stores) one message and tells the worker what became of it.
    pub async fn deliver(&self, message: SendEmail, ctx: JobContext) -> Outcome {
        // The domain only: enough to spot a failing provider, without personal data in logs.
        let domain = message
            .to
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .to_string();
        match self {
            Mailer::Outbox => match outbox::store(ctx.db.write(), ctx.id, &message).await {
                Ok(()) => {
                    tracing::info!(mail.to_domain = %domain, mail.via = "outbox", "email stored in the outbox");
                    Outcome::Done
                }
                Err(e) => Outcome::Retry(format!("storing the email in the outbox failed: {e}")),
            },
            Mailer::Smtp { transport, from } => {
                let email = match build(from, message, ctx.id) {
                    Ok(email) => email,
                    Err(e) => return Outcome::Fail(format!("the email cannot be built: {e}")),
                };
                match transport.send(email).await {
                    Ok(_) => {
                        tracing::info!(mail.to_domain = %domain, mail.via = "smtp", "email sent");
                        Outcome::Done
                    }
                    // 5xx: the server will never take this message (unknown mailbox, policy).
                    Err(e) if e.is_permanent() => {
                        Outcome::Fail(format!("the SMTP server refused the email: {e}"))
                    }
                    // 4xx, timeouts, refused connections, TLS trouble: try again later.
                    Err(e) => Outcome::Retry(format!("sending the email failed: {e}")),
                }
            }
        }
    }
}

fn build(from: &Mailbox, message: SendEmail, job_id: JobId) -> Result<Message, MailError> {
    let to: Mailbox = message.to.parse().map_err(MailError::Address)?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject)
        .message_id(Some(format!("<{job_id}@{}>", from.email.domain())))
        .multipart(MultiPart::alternative_plain_html(
            message.text,
            message.html,
        ))
        .map_err(MailError::Build)
}

//! Composing email for the other features, registering its delivery, and reading the
//! outbox (from a replica: admins browsing it need no read-your-writes).

use super::error::MailError;
use super::model::SendEmail;
use super::outbox::{self, Model, OutboxFilter};
use super::sender::Mailer;
use super::templates::{self, AccountEmail, AccountFields};
use crate::config::MailConfig;
use crate::db::Db;
use crate::db::pagination::{Page, PageRequest};
use crate::jobs::Registry;
use uuid::Uuid;

/// An account email of `kind` to `user`, carrying `link`, which works for `valid_for`.
pub fn account_email(
    kind: AccountEmail,
    config: &MailConfig,
    user: &crate::users::Model,
    link: &str,
    valid_for: std::time::Duration,
) -> Result<SendEmail, MailError> {
    let rendered = templates::account(
        kind,
        &AccountFields {
            name: &user.name,
            email: user.email.as_str(),
            site_name: &config.site_name,
            link,
            valid_for: &spoken(valid_for),
        },
    )?;
    Ok(SendEmail {
        to: user.email.to_string(),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
    })
}

/// A duration as a sentence says it: whole days, hours or minutes ("30 minutes").
fn spoken(duration: std::time::Duration) -> String {
    let secs = duration.as_secs();
    let (n, unit) = match secs {
        s if s >= 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s >= 3600 && s % 3600 == 0 => (s / 3600, "hour"),
        s => (s.div_ceil(60).max(1), "minute"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// The confirmation of a completed order, to its customer; `total` as it should read.
pub fn order_confirmation(
    config: &MailConfig,
    user: &crate::users::Model,
    order_id: Uuid,
    total: &str,
) -> Result<SendEmail, MailError> {
    let rendered = templates::order_confirmed(templates::OrderConfirmedText {
        name: &user.name,
        order_id: &order_id.to_string(),
        total,
        site_name: &config.site_name,
    })?;
    Ok(SendEmail {
        to: user.email.to_string(),
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

/// A page of the outbox matching `filter`, newest first; the cursor is the last id.
pub async fn outbox_page(
    db: &Db,
    filter: OutboxFilter,
    page: PageRequest<Uuid>,
) -> Result<Page<Model>, MailError> {
    let rows = outbox::list(&db.read(), filter, &page).await?;
    Ok(Page::from_rows(rows, page.limit, |m| m.id))
}

/// One message of the outbox.
pub async fn outbox_message(db: &Db, id: Uuid) -> Result<Model, MailError> {
    outbox::find(&db.read(), id)
        .await?
        .ok_or(MailError::NotInOutbox)
}

#[cfg(test)]
mod tests {
    use super::spoken;
    use std::time::Duration;

    #[test]
    fn durations_read_as_words() {
        assert_eq!(spoken(Duration::from_secs(30 * 60)), "30 minutes");
        assert_eq!(spoken(Duration::from_secs(48 * 3600)), "2 days");
        assert_eq!(spoken(Duration::from_secs(3600)), "1 hour");
        assert_eq!(spoken(Duration::from_secs(90)), "2 minutes");
    }
}

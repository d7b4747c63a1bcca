//! Composing email for the other features, registering its delivery, and reading the
//! outbox (from a replica: admins browsing it need no read-your-writes).

use super::error::MailError;
use super::model::SendEmail;
use super::outbox::{self, Model, OutboxFilter};
use super::sender::Mailer;
use super::templates;
use crate::config::MailConfig;
use crate::db::Db;
use crate::db::pagination::{Page, PageRequest};
use crate::jobs::Registry;
use uuid::Uuid;

/// The welcome email for a newly registered account.
pub fn welcome(config: &MailConfig, user: &crate::users::Model) -> Result<SendEmail, MailError> {
    let rendered = templates::welcome(&user.name, user.email.as_str(), &config.site_name)?;
    Ok(SendEmail {
        to: user.email.to_string(),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
    })
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

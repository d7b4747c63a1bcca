//! Admin endpoints of the dev mailbox: the messages stored in the outbox when no SMTP
//! server is configured.

use super::outbox::{Model, OutboxFilter};
use super::service;
use crate::auth::{BearerAuth, Permission};
use crate::db::ids::JobId;
use crate::db::pagination::PageRequest;
use crate::error::ApiError;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum MailTags {
    /// Emails kept in the outbox instead of sent (admins).
    Mail,
}

/// An email as it would have been sent.
#[derive(Object)]
#[oai(example)]
struct OutboxMessage {
    id: Uuid,
    /// The `email.send` job that produced it.
    job_id: JobId,
    to: String,
    subject: String,
    text_body: String,
    html_body: String,
    created_at: DateTime<Utc>,
}

impl poem_openapi::types::Example for OutboxMessage {
    fn example() -> Self {
        Self {
            id: Uuid::nil(),
            job_id: JobId(Uuid::nil()),
            to: "ada@example.com".into(),
            subject: "Welcome to Shop".into(),
            text_body: "Hello Ada,\n\nWelcome to Shop!".into(),
            html_body: "<p>Hello Ada,</p><p>Welcome to Shop!</p>".into(),
            created_at: crate::rest::examples::example_time(),
        }
    }
}

impl From<Model> for OutboxMessage {
    fn from(m: Model) -> Self {
        Self {
            id: m.id,
            job_id: m.job_id,
            to: m.to_address,
            subject: m.subject,
            text_body: m.text_body,
            html_body: m.html_body,
            created_at: m.created_at,
        }
    }
}

crate::list_object!(OutboxList of OutboxMessage);

#[derive(Default)]
pub struct MailApi;

#[OpenApi(tag = "MailTags::Mail")]
impl MailApi {
    /// List the outbox, newest first
    ///
    /// Filled only while `mail.smtp_url` is unset.
    #[oai(path = "/mail/outbox", method = "get", operation_id = "list_outbox")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Only messages to this address.
        to: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<OutboxList>, ApiError> {
        auth.0.require(Permission::ReadMail)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let filter = OutboxFilter { to: to.0 };
        Ok(Json(
            service::outbox_page(state.db(), filter, page).await?.into(),
        ))
    }

    /// One message of the outbox
    #[oai(
        path = "/mail/outbox/:id",
        method = "get",
        operation_id = "get_outbox_message"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<Json<OutboxMessage>, ApiError> {
        auth.0.require(Permission::ReadMail)?;
        Ok(Json(
            service::outbox_message(state.db(), id.0).await?.into(),
        ))
    }
}

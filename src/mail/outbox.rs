//! The `mail_outbox` table: messages kept instead of sent when no SMTP server is
//! configured. Keyed by job id, so a job that runs twice stores one copy.

use crate::db::ids::JobId;
use crate::db::pagination::PageRequest;
use chrono::Utc;
use sea_orm::entity::prelude::*;
use sea_orm::{QueryOrder, QuerySelect, Set};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The `email.send` job that produced the message.
    pub job_id: JobId,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Stores the message of job `job_id` unless that job already stored one.
pub async fn store(
    conn: &impl ConnectionTrait,
    job_id: JobId,
    message: &super::SendEmail,
) -> Result<(), DbErr> {
    let row = ActiveModel {
        id: Set(Uuid::now_v7()),
        job_id: Set(job_id),
        to_address: Set(message.to.clone()),
        subject: Set(message.subject.clone()),
        text_body: Set(message.text.clone()),
        html_body: Set(message.html.clone()),
        created_at: Set(Utc::now()),
    };
    Entity::insert(row)
        .on_conflict_do_nothing_on([Column::JobId])
        .exec(conn)
        .await
        .map(|_| ())
}

/// Filters of the outbox list, which is ordered newest first.
#[derive(Debug, Default)]
pub struct OutboxFilter {
    /// Only messages to this address (exact, case-insensitive: addresses are stored lowercased).
    pub to: Option<String>,
}

/// The rows of one page of messages matching `filter`, older than the cursor's id. Ids are
/// UUIDv7, so id order is time order.
pub async fn list(
    conn: &impl ConnectionTrait,
    filter: OutboxFilter,
    page: &PageRequest<Uuid>,
) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find().order_by_desc(Column::Id).limit(page.rows());
    if let Some(to) = filter.to {
        query = query.filter(Column::ToAddress.eq(to.to_lowercase()));
    }
    if let Some(before) = page.after {
        query = query.filter(Column::Id.lt(before));
    }
    query.all(conn).await
}

/// Up to `limit` stored messages to `to`, oldest first, after id `after` (an export pages
/// through them).
pub async fn to_recipient(
    conn: &impl ConnectionTrait,
    to: &str,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find()
        .filter(Column::ToAddress.eq(to.to_lowercase()))
        .order_by_asc(Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(Column::Id.gt(after));
    }
    query.all(conn).await
}

/// Deletes the stored messages to `to` (its owner deleted their account); returns how many.
pub async fn forget_recipient(conn: &impl ConnectionTrait, to: &str) -> Result<u64, DbErr> {
    Ok(Entity::delete_many()
        .filter(Column::ToAddress.eq(to.to_lowercase()))
        .exec(conn)
        .await?
        .rows_affected)
}

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(conn).await
}

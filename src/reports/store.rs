//! The reports' rows and their files' chunks. Status changes are conditional updates, so
//! a rerun of a generation job and a prune racing it each decide by one statement.

use super::entity::{chunk, report};
use super::model::ReportStatus;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

pub async fn insert(conn: &impl ConnectionTrait, row: report::Model) -> Result<(), DbErr> {
    report::Entity::insert(report::ActiveModel::from(row))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The report `id` unless it expired by `now`.
pub async fn find_live(
    conn: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<report::Model>, DbErr> {
    report::Entity::find_by_id(id)
        .filter(report::Column::ExpiresAt.gt(now))
        .one(conn)
        .await
}

/// Up to `limit` live reports older than `before`, newest first (ids are UUIDv7).
pub async fn list(
    conn: &impl ConnectionTrait,
    before: Option<Uuid>,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Vec<report::Model>, DbErr> {
    let mut query = report::Entity::find()
        .filter(report::Column::ExpiresAt.gt(now))
        .order_by_desc(report::Column::Id)
        .limit(limit);
    if let Some(before) = before {
        query = query.filter(report::Column::Id.lt(before));
    }
    query.all(conn).await
}

/// Marks the report running from `now`, forgetting any earlier attempt's counts; false
/// when it is gone or already finished (a rerun then has nothing to do).
pub async fn start(
    conn: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let updated = report::Entity::update_many()
        .col_expr(report::Column::Status, Expr::value(ReportStatus::Running))
        .col_expr(report::Column::StartedAt, Expr::value(Some(now)))
        .col_expr(report::Column::Rows, Expr::value(0i64))
        .col_expr(report::Column::Bytes, Expr::value(0i64))
        .filter(report::Column::Id.eq(id))
        .filter(report::Column::Status.is_in([ReportStatus::Pending, ReportStatus::Running]))
        .exec(conn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Deletes the chunks an interrupted attempt left behind.
pub async fn delete_chunks(conn: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    chunk::Entity::delete_many()
        .filter(chunk::Column::ReportId.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn insert_chunk(
    conn: &impl ConnectionTrait,
    report_id: Uuid,
    seq: i32,
    data: Vec<u8>,
) -> Result<(), DbErr> {
    let row = chunk::ActiveModel {
        report_id: Set(report_id),
        seq: Set(seq),
        data: Set(data),
    };
    chunk::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The chunk at `seq` of the report's file, or `None` past the last.
pub async fn chunk(
    conn: &impl ConnectionTrait,
    report_id: Uuid,
    seq: i32,
) -> Result<Option<Vec<u8>>, DbErr> {
    Ok(chunk::Entity::find_by_id((report_id, seq))
        .one(conn)
        .await?
        .map(|c| c.data))
}

/// What a finished attempt records: done with its counts, or failed with why.
pub enum Finish {
    Done { rows: i64, bytes: i64 },
    Failed(String),
}

/// Records the end of the attempt that started at `started`; false when another attempt
/// took the report over meanwhile (its own end then counts).
pub async fn finish(
    conn: &impl ConnectionTrait,
    id: Uuid,
    started: DateTime<Utc>,
    end: Finish,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let update = report::Entity::update_many()
        .col_expr(report::Column::CompletedAt, Expr::value(Some(now)))
        .filter(report::Column::Id.eq(id))
        .filter(report::Column::Status.eq(ReportStatus::Running))
        .filter(report::Column::StartedAt.eq(started));
    let update = match end {
        Finish::Done { rows, bytes } => update
            .col_expr(report::Column::Status, Expr::value(ReportStatus::Done))
            .col_expr(report::Column::Rows, Expr::value(rows))
            .col_expr(report::Column::Bytes, Expr::value(bytes)),
        Finish::Failed(error) => update
            .col_expr(report::Column::Status, Expr::value(ReportStatus::Failed))
            .col_expr(report::Column::Error, Expr::value(Some(error))),
    };
    Ok(update.exec(conn).await?.rows_affected == 1)
}

/// Deletes reports expired by `now`; their chunks go with them (ON DELETE CASCADE).
pub async fn prune(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let deleted = report::Entity::delete_many()
        .filter(report::Column::ExpiresAt.lte(now))
        .exec(conn)
        .await?;
    Ok(deleted.rows_affected)
}

//! Claiming and completing, the two statements every run costs. Claiming is one
//! statement on both backends: `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING`, with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL so concurrent claimers pass each other by; on
//! SQLite the single writer makes the statement atomic by itself. A worker claims only the
//! kinds its process has handlers for, so during a rolling deploy a job of a new kind waits
//! for a worker of the new release instead of failing on an old one.
//!
//! Both commit without waiting for the WAL flush (`relaxed_commit`): a database crash may
//! forget its last few milliseconds, and since WAL replays in order, what is forgotten is
//! always the newest state — a claim or completion that did not happen, so the job simply
//! runs again, as the at-least-once contract already allows. Enqueues and handlers' own
//! writes keep full durability.

use super::super::entity::{Column, JobState, Model};
use super::{release, to_chrono};
use crate::db::ids::JobId;
use crate::db::{Db, clock, relaxed_commit};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, FromQueryResult, QueryFilter, QueryTrait,
};
use std::time::Duration;

/// The claim statement; `$1` owner, `$2` lease expiry, `$3` now, `$4` queue, `$5` limit,
/// `$6…` the `kinds` claimable kinds.
fn claim_sql(backend: DbBackend, kinds: usize) -> String {
    let lock = match backend {
        DbBackend::Postgres => " FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let relaxed = relaxed_commit(backend);
    let kinds = (6..6 + kinds)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_owner = $1, lease_expires_at = $2, updated_at = $3 \
         WHERE id IN (SELECT id FROM jobs WHERE queue = $4 AND kind IN ({kinds}) AND state IN ('available', 'scheduled', 'retryable') AND run_at <= $3 \
         ORDER BY priority DESC, run_at, id LIMIT $5{lock}) AND {relaxed} RETURNING *"
    )
}

/// Leases up to `limit` due jobs of `queue` whose kind is one of `kinds` to `owner` for
/// `lease`, highest priority first. "Due" and the lease's expiry are on the database's
/// clock, so a worker whose own clock runs ahead neither runs jobs early nor hands out
/// leases that others see as expired.
pub async fn claim(
    db: &Db,
    queue: &str,
    kinds: &[&str],
    owner: &str,
    lease: Duration,
    limit: usize,
) -> Result<Vec<Model>, DbErr> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let now = clock::now(db.write()).await?;
    let expires = now + to_chrono(lease);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut values = vec![
        owner.into(),
        expires.into(),
        now.into(),
        queue.into(),
        limit.into(),
    ];
    values.extend(kinds.iter().map(|&kind| kind.into()));
    let backend = db.write().get_database_backend();
    let statement = db.statement(&claim_sql(backend, kinds.len()), values);
    Model::find_by_statement(statement).all(db.write()).await
}

/// Marks many finished runs completed in one statement (the worker batches completions:
/// one round trip and one commit for all jobs that finished meanwhile). Returns the ids
/// that `owner` still held and that are now completed.
pub async fn complete_many(db: &Db, ids: &[JobId], owner: &str) -> Result<Vec<JobId>, DbErr> {
    let now = Utc::now();
    let completed = release(now)
        .col_expr(Column::State, Expr::value(JobState::Completed))
        .col_expr(Column::FinishedAt, Expr::value(now))
        .filter(Column::Id.is_in(ids.iter().copied()))
        .filter(Column::LeaseOwner.eq(owner))
        .filter(Column::State.eq(JobState::Running))
        .filter(Expr::cust(relaxed_commit(
            db.write().get_database_backend(),
        )))
        .into_query()
        .returning_col(Column::Id)
        .to_owned();
    let rows = db.write().query_all(&completed).await?;
    rows.iter().map(|row| row.try_get("", "id")).collect()
}

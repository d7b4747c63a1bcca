//! The end of a run other than success (failure, retry, snooze) and the lease renewal
//! that keeps a long run from being rescued; each applies only while its worker still
//! holds the lease. New run times and lease expiries are on the database's clock.

use super::super::entity::{Column, Entity as Jobs, JobState, Model};
use super::{release, to_chrono};
use crate::db::ids::JobId;
use crate::db::{Db, clock};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};
use serde_json::json;
use std::time::Duration;

/// The update that ends a run at `now`, applied only while `owner` still holds the lease.
async fn finish(
    db: &Db,
    job: &Model,
    owner: &str,
    now: DateTime<Utc>,
    set: Vec<(Column, Expr)>,
) -> Result<bool, DbErr> {
    let mut update = release(now)
        .filter(Column::Id.eq(job.id))
        .filter(Column::LeaseOwner.eq(owner))
        .filter(Column::State.eq(JobState::Running));
    for (column, value) in set {
        update = update.col_expr(column, value);
    }
    Ok(update.exec(db.write()).await?.rows_affected == 1)
}

fn with_error(job: &Model, error: &str, now: DateTime<Utc>) -> String {
    let mut errors: Vec<serde_json::Value> = serde_json::from_str(&job.errors).unwrap_or_default();
    errors.push(json!({"attempt": job.attempt, "at": now, "error": error}));
    serde_json::Value::Array(errors).to_string()
}

/// Records a failed attempt: back to the queue after `retry_in`, or dead (the dead-letter
/// queue) when attempts are exhausted or `permanent`. Returns the new state.
pub async fn fail(
    db: &Db,
    job: &Model,
    owner: &str,
    error: &str,
    retry_in: Duration,
    permanent: bool,
) -> Result<JobState, DbErr> {
    let now = clock::now(db.write()).await?;
    let errors = Expr::value(with_error(job, error, now));
    let dead = permanent || job.attempt >= job.max_attempts;
    let set = if dead {
        vec![
            (Column::State, Expr::value(JobState::Dead)),
            (Column::FinishedAt, Expr::value(now)),
            (Column::Errors, errors),
        ]
    } else {
        let run_at = now + to_chrono(retry_in);
        vec![
            (Column::State, Expr::value(JobState::Retryable)),
            (Column::RunAt, Expr::value(run_at)),
            (Column::Errors, errors),
        ]
    };
    finish(db, job, owner, now, set).await?;
    Ok(if dead {
        JobState::Dead
    } else {
        JobState::Retryable
    })
}

/// Puts the job back without using up an attempt: a snooze, or a shutdown that could not
/// wait for it.
pub async fn requeue(db: &Db, job: &Model, owner: &str, after: Duration) -> Result<bool, DbErr> {
    let now = clock::now(db.write()).await?;
    let run_at = now + to_chrono(after);
    let state = if after.is_zero() {
        JobState::Available
    } else {
        JobState::Scheduled
    };
    let set = vec![
        (Column::State, Expr::value(state)),
        (Column::RunAt, Expr::value(run_at)),
        (Column::Attempt, Expr::col(Column::Attempt).sub(1)),
    ];
    finish(db, job, owner, now, set).await
}

/// Puts jobs `owner` claimed but never started back in the queue in one statement, their
/// claim not counted as an attempt and their place in the queue (`run_at`) kept: jobs
/// prefetched into a worker's local queue, returned on shutdown or when they waited there
/// too long, and runs a shutdown aborted. Returns how many went back.
pub async fn give_back(db: &Db, ids: &[JobId], owner: &str) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(release(Utc::now())
        .col_expr(Column::State, Expr::value(JobState::Available))
        .col_expr(Column::Attempt, Expr::col(Column::Attempt).sub(1))
        .filter(Column::Id.is_in(ids.iter().copied()))
        .filter(Column::LeaseOwner.eq(owner))
        .filter(Column::State.eq(JobState::Running))
        .exec(db.write())
        .await?
        .rows_affected)
}

/// Extends the leases of `ids` held by `owner` (running and prefetched jobs alike): one
/// statement per 5,000 ids, well under either backend's limit on bound parameters.
pub async fn heartbeat(
    db: &Db,
    owner: &str,
    ids: Vec<JobId>,
    lease: Duration,
) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    let expires = clock::now(db.write()).await? + to_chrono(lease);
    let mut renewed = 0;
    for chunk in ids.chunks(5_000) {
        renewed += Jobs::update_many()
            .col_expr(Column::LeaseExpiresAt, Expr::value(expires))
            .filter(Column::Id.is_in(chunk.iter().copied()))
            .filter(Column::LeaseOwner.eq(owner))
            .filter(Column::State.eq(JobState::Running))
            .exec(db.write())
            .await?
            .rows_affected;
    }
    Ok(renewed)
}

//! Upkeep of the queue as a whole: rescuing jobs whose worker vanished, measuring depth
//! for the gauges and throughput for the console, and pruning finished jobs past their retention.

use super::super::entity::{Column, Entity as Jobs, JobState};
use super::{release, to_chrono};
use crate::db::{Db, clock};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    Statement,
};
use std::time::Duration;

/// Jobs whose worker vanished (lease expired on the database's clock, which every
/// worker's lease is set by): back to the queue, or dead when their attempts are used up.
/// Returns how many were rescued.
pub async fn rescue_expired(db: &Db) -> Result<u64, DbErr> {
    let now = clock::now(db.write()).await?;
    let expired = || {
        release(now)
            .filter(Column::State.eq(JobState::Running))
            .filter(Column::LeaseExpiresAt.lt(now))
    };
    let dead = expired()
        .col_expr(Column::State, Expr::value(JobState::Dead))
        .col_expr(Column::FinishedAt, Expr::value(now))
        .filter(Expr::col(Column::Attempt).gte(Expr::col(Column::MaxAttempts)))
        .exec(db.write())
        .await?
        .rows_affected;
    let retried = expired()
        .col_expr(Column::State, Expr::value(JobState::Retryable))
        .col_expr(Column::RunAt, Expr::value(now))
        .exec(db.write())
        .await?
        .rows_affected;
    Ok(dead + retried)
}

/// Jobs per `(queue, state)`, and per queue the age in seconds of the oldest due job.
pub type Depth = (Vec<(String, String, i64)>, Vec<(String, f64)>);

/// Jobs per queue and state, and per queue the age of the oldest due job (for gauges).
pub async fn depth(db: &Db) -> Result<Depth, DbErr> {
    #[derive(FromQueryResult)]
    struct Count {
        queue: String,
        state: String,
        jobs: i64,
    }
    #[derive(FromQueryResult)]
    struct Oldest {
        queue: String,
        run_at: DateTime<Utc>,
    }
    let backend = db.read().get_database_backend();
    let counts = Count::find_by_statement(Statement::from_string(
        backend,
        "SELECT queue, state, COUNT(*) AS jobs FROM jobs WHERE state NOT IN ('completed', 'cancelled') GROUP BY queue, state",
    ))
    .all(&db.read())
    .await?;
    let oldest = Oldest::find_by_statement(Statement::from_string(
        backend,
        "SELECT queue, MIN(run_at) AS run_at FROM jobs WHERE state IN ('available', 'scheduled', 'retryable') GROUP BY queue",
    ))
    .all(&db.read())
    .await?;
    let now = Utc::now();
    Ok((
        counts
            .into_iter()
            .map(|c| (c.queue, c.state, c.jobs))
            .collect(),
        oldest
            .into_iter()
            .map(|o| {
                (
                    o.queue,
                    Ord::max((now - o.run_at).num_milliseconds(), 0) as f64 / 1000.0,
                )
            })
            .collect(),
    ))
}

/// Jobs completed per queue and minute (whole minutes since the Unix epoch) over the last
/// `minutes` minutes, counted from `finished_at` in the database: the same figure whichever
/// process ran them. Minutes without completions are absent.
pub async fn completed_per_minute(db: &Db, minutes: u32) -> Result<Vec<(String, i64, i64)>, DbErr> {
    #[derive(FromQueryResult)]
    struct Bucket {
        queue: String,
        minute: i64,
        jobs: i64,
    }
    let backend = db.read().get_database_backend();
    let minute = match backend {
        DbBackend::Postgres => "CAST(FLOOR(EXTRACT(EPOCH FROM finished_at) / 60) AS BIGINT)",
        _ => "CAST(strftime('%s', finished_at) AS INTEGER) / 60",
    };
    let since = Utc::now() - chrono::Duration::minutes(minutes.into());
    let sql = format!(
        "SELECT queue, {minute} AS minute, COUNT(*) AS jobs FROM jobs \
         WHERE state = 'completed' AND finished_at >= $1 GROUP BY queue, {minute}"
    );
    let buckets =
        Bucket::find_by_statement(Statement::from_sql_and_values(backend, sql, [since.into()]))
            .all(&db.read())
            .await?;
    Ok(buckets
        .into_iter()
        .map(|b| (b.queue, b.minute, b.jobs))
        .collect())
}

/// Deletes completed (and cancelled) jobs finished before `completed`, dead ones before `dead`.
pub async fn prune(db: &Db, completed: Duration, dead: Duration) -> Result<u64, DbErr> {
    let now = Utc::now();
    let older = |state: Vec<JobState>, age: Duration| {
        Jobs::delete_many()
            .filter(Column::State.is_in(state))
            .filter(Column::FinishedAt.lt(now - to_chrono(age)))
    };
    let done = older(vec![JobState::Completed, JobState::Cancelled], completed)
        .exec(db.write())
        .await?
        .rows_affected;
    let dead = older(vec![JobState::Dead], dead)
        .exec(db.write())
        .await?
        .rows_affected;
    Ok(done + dead)
}

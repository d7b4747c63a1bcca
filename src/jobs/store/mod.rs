//! The queue protocol in SQL: enqueue, claim, complete or fail, renew leases, rescue
//! jobs of vanished workers, prune, and the few transitions an operator asks for.
//! Every statement keeps to the state machine of [`JobState`].

mod claim;
mod finish;
mod manual;
mod upkeep;

pub use claim::{claim, complete_many};
pub use finish::{fail, give_back, heartbeat, requeue};
pub use manual::{cancel, restart, restart_dead};
pub use upkeep::{completed_per_minute, depth, prune, rescue_expired};

use super::entity::{ActiveModel, Column, Entity as Jobs, JobState, Model};
use crate::db::clock;
use crate::db::ids::JobId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, TransactionSession,
    TransactionTrait, UpdateMany,
};
use std::time::Duration;

/// States of a job that waits for a worker.
const WAITING: [JobState; 3] = [
    JobState::Available,
    JobState::Scheduled,
    JobState::Retryable,
];

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub queue: String,
    pub payload: serde_json::Value,
    pub priority: i32,
    pub max_attempts: i32,
    /// Not before; now when absent.
    pub run_at: Option<DateTime<Utc>>,
    /// While a job with this key is pending or running, enqueueing another returns it.
    pub unique_key: Option<String>,
}

/// An update that ends a lease (its holder and expiry cleared) at `now`.
fn release(now: DateTime<Utc>) -> UpdateMany<Jobs> {
    Jobs::update_many()
        .col_expr(Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(
            Column::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::UpdatedAt, Expr::value(now))
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// The row of `job` enqueued at `now` (the database's clock: a job enqueued for now by a
/// process whose clock runs ahead must not wait for that clock).
fn row(job: NewJob, now: DateTime<Utc>) -> Model {
    let run_at = Ord::max(job.run_at.unwrap_or(now), now);
    let state = if run_at > now {
        JobState::Scheduled
    } else {
        JobState::Available
    };
    Model {
        id: JobId::generate(),
        kind: job.kind,
        queue: job.queue,
        payload: job.payload.to_string(),
        priority: job.priority,
        state,
        attempt: 0,
        max_attempts: Ord::max(job.max_attempts, 1),
        run_at,
        lease_owner: None,
        lease_expires_at: None,
        errors: "[]".into(),
        unique_key: job.unique_key,
        created_at: now,
        updated_at: now,
        finished_at: None,
    }
}

/// Inserts jobs without unique keys in one statement, inside the caller's transaction
/// when `conn` is one.
pub async fn enqueue_many(conn: &impl ConnectionTrait, jobs: Vec<NewJob>) -> Result<(), DbErr> {
    if jobs.iter().any(|job| job.unique_key.is_some()) {
        return Err(DbErr::Custom(
            "jobs with a unique key are enqueued one at a time".into(),
        ));
    }
    if jobs.is_empty() {
        return Ok(());
    }
    let now = clock::now(conn).await?;
    let rows = jobs.into_iter().map(|job| ActiveModel::from(row(job, now)));
    Jobs::insert_many(rows).exec_without_returning(conn).await?;
    Ok(())
}

/// Inserts the job — inside the caller's transaction when `conn` is one, so it commits or
/// rolls back with the caller's own writes. A pending duplicate (same unique key) is
/// returned instead of a new job.
pub async fn enqueue<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    job: NewJob,
) -> Result<Model, DbErr> {
    let unique_key = job.unique_key.clone();
    let model = row(job, clock::now(conn).await?);
    // Inserted without RETURNING: the row is what was sent, and reading it back cost
    // every enqueue a decode.
    let insert = || Jobs::insert(ActiveModel::from(model.clone()));
    if unique_key.is_none() {
        insert().exec_without_returning(conn).await?;
        return Ok(model);
    }
    // A savepoint, so a clash on the pending-unique-key index leaves the caller's
    // transaction usable (PostgreSQL aborts a transaction on any failed statement).
    let savepoint = conn.begin().await?;
    match insert().exec_without_returning(&savepoint).await {
        Ok(_) => {
            savepoint.commit().await?;
            Ok(model)
        }
        Err(e) if crate::db::is_unique_violation(&e) => {
            savepoint.rollback().await?;
            Jobs::find()
                .filter(Column::UniqueKey.eq(unique_key))
                .filter(Column::State.is_in(WAITING.into_iter().chain([JobState::Running])))
                .one(conn)
                .await?
                .ok_or(e)
        }
        Err(e) => Err(e),
    }
}

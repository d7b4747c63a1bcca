//! Job storage and state transitions. Claiming is one statement: `FOR UPDATE SKIP LOCKED`
//! on PostgreSQL; on SQLite the single writer makes `UPDATE … WHERE id IN (SELECT … LIMIT n)
//! RETURNING` atomic by itself.

use super::entity::{ActiveModel, Column, Entity as Jobs, JobState, Model};
use crate::db::{Backend, Db};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QueryTrait, Set, SqlErr, Statement, TransactionSession,
    TransactionTrait,
};
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

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

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Inserts the job — inside the caller's transaction when `conn` is one, so it commits or
/// rolls back with the caller's own writes. A pending duplicate (same unique key) is
/// returned instead of a new job.
pub async fn enqueue<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    job: NewJob,
) -> Result<Model, DbErr> {
    let now = Utc::now();
    let run_at = Ord::max(job.run_at.unwrap_or(now), now);
    let state = if run_at > now {
        JobState::Scheduled
    } else {
        JobState::Available
    };
    let id = Uuid::now_v7();
    let row = ActiveModel {
        id: Set(id),
        kind: Set(job.kind),
        queue: Set(job.queue),
        payload: Set(job.payload.to_string()),
        priority: Set(job.priority),
        state: Set(state),
        attempt: Set(0),
        max_attempts: Set(Ord::max(job.max_attempts, 1)),
        run_at: Set(run_at),
        lease_owner: Set(None),
        lease_expires_at: Set(None),
        errors: Set("[]".into()),
        unique_key: Set(job.unique_key.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
    };
    if job.unique_key.is_none() {
        return row.insert(conn).await;
    }
    // A savepoint, so a clash on the pending-unique-key index leaves the caller's
    // transaction usable (PostgreSQL aborts a transaction on any failed statement).
    let savepoint = conn.begin().await?;
    match row.insert(&savepoint).await {
        Ok(model) => {
            savepoint.commit().await?;
            Ok(model)
        }
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            savepoint.rollback().await?;
            Jobs::find()
                .filter(Column::UniqueKey.eq(job.unique_key))
                .filter(Column::State.is_in(WAITING.into_iter().chain([JobState::Running])))
                .one(conn)
                .await?
                .ok_or(e)
        }
        Err(e) => Err(e),
    }
}

pub async fn claim(
    db: &Db,
    queue: &str,
    owner: &str,
    lease: Duration,
    limit: usize,
) -> Result<Vec<Model>, DbErr> {
    let now = Utc::now();
    let expires = now + to_chrono(lease);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let (sql, backend) = match db.backend() {
        Backend::Postgres => (
            "UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_owner = $1, lease_expires_at = $2, updated_at = $3 \
             WHERE id IN (SELECT id FROM jobs WHERE queue = $4 AND state IN ('available', 'scheduled', 'retryable') AND run_at <= $3 \
             ORDER BY priority DESC, run_at, id LIMIT $5 FOR UPDATE SKIP LOCKED) RETURNING *",
            sea_orm::DbBackend::Postgres,
        ),
        Backend::Sqlite => (
            "UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_owner = ?1, lease_expires_at = ?2, updated_at = ?3 \
             WHERE id IN (SELECT id FROM jobs WHERE queue = ?4 AND state IN ('available', 'scheduled', 'retryable') AND run_at <= ?3 \
             ORDER BY priority DESC, run_at, id LIMIT ?5) RETURNING *",
            sea_orm::DbBackend::Sqlite,
        ),
    };
    let values = [
        owner.into(),
        expires.into(),
        now.into(),
        queue.into(),
        limit.into(),
    ];
    let statement = Statement::from_sql_and_values(backend, sql, values);
    let txn = bookkeeping(db).await?;
    let claimed = Model::find_by_statement(statement).all(&txn).await?;
    txn.commit().await?;
    Ok(claimed)
}

/// A transaction for the workers' own bookkeeping (claims, completions). On PostgreSQL it
/// commits without waiting for the WAL flush: a database crash may forget its last few
/// milliseconds, and since WAL replays in order, what is forgotten is always the newest
/// state — a claim or completion that did not happen, so the job simply runs again, as
/// the at-least-once contract already allows. Enqueues and handlers' own writes keep full
/// durability.
async fn bookkeeping(db: &Db) -> Result<DatabaseTransaction, DbErr> {
    let txn = db.begin_write().await?;
    if db.backend() == Backend::Postgres {
        txn.execute_unprepared("SET LOCAL synchronous_commit = off")
            .await?;
    }
    Ok(txn)
}

/// The update that ends a run, applied only while `owner` still holds the lease.
async fn finish(
    db: &Db,
    job: &Model,
    owner: &str,
    set: Vec<(Column, Expr)>,
) -> Result<bool, DbErr> {
    let mut update = Jobs::update_many()
        .col_expr(Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(
            Column::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(job.id))
        .filter(Column::LeaseOwner.eq(owner))
        .filter(Column::State.eq(JobState::Running));
    for (column, value) in set {
        update = update.col_expr(column, value);
    }
    Ok(update.exec(db.write()).await?.rows_affected == 1)
}

/// Marks many finished runs completed in one statement (the worker batches completions:
/// one round trip and one commit for all jobs that finished meanwhile). Returns the ids
/// that `owner` still held and that are now completed.
pub async fn complete_many(db: &Db, ids: &[Uuid], owner: &str) -> Result<Vec<Uuid>, DbErr> {
    let now = Utc::now();
    let completed = Jobs::update_many()
        .col_expr(Column::State, Expr::value(JobState::Completed))
        .col_expr(Column::FinishedAt, Expr::value(now))
        .col_expr(Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(
            Column::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.is_in(ids.iter().copied()))
        .filter(Column::LeaseOwner.eq(owner))
        .filter(Column::State.eq(JobState::Running))
        .into_query()
        .returning_col(Column::Id)
        .to_owned();
    let txn = bookkeeping(db).await?;
    let rows = txn.query_all(&completed).await?;
    txn.commit().await?;
    rows.iter().map(|row| row.try_get("", "id")).collect()
}

fn with_error(job: &Model, error: &str) -> String {
    let mut errors: Vec<serde_json::Value> = serde_json::from_str(&job.errors).unwrap_or_default();
    errors.push(json!({"attempt": job.attempt, "at": Utc::now(), "error": error}));
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
    let errors = Expr::value(with_error(job, error));
    let dead = permanent || job.attempt >= job.max_attempts;
    let set = if dead {
        vec![
            (Column::State, Expr::value(JobState::Dead)),
            (Column::FinishedAt, Expr::value(Utc::now())),
            (Column::Errors, errors),
        ]
    } else {
        let run_at = Utc::now() + to_chrono(retry_in);
        vec![
            (Column::State, Expr::value(JobState::Retryable)),
            (Column::RunAt, Expr::value(run_at)),
            (Column::Errors, errors),
        ]
    };
    finish(db, job, owner, set).await?;
    Ok(if dead {
        JobState::Dead
    } else {
        JobState::Retryable
    })
}

/// Puts the job back without using up an attempt: a snooze, or a shutdown that could not
/// wait for it.
pub async fn requeue(db: &Db, job: &Model, owner: &str, after: Duration) -> Result<bool, DbErr> {
    let run_at = Utc::now() + to_chrono(after);
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
    finish(db, job, owner, set).await
}

/// Extends the leases of `ids` held by `owner`.
pub async fn heartbeat(
    db: &Db,
    owner: &str,
    ids: Vec<Uuid>,
    lease: Duration,
) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(Jobs::update_many()
        .col_expr(
            Column::LeaseExpiresAt,
            Expr::value(Utc::now() + to_chrono(lease)),
        )
        .filter(Column::Id.is_in(ids))
        .filter(Column::LeaseOwner.eq(owner))
        .filter(Column::State.eq(JobState::Running))
        .exec(db.write())
        .await?
        .rows_affected)
}

/// Jobs whose worker vanished (lease expired): back to the queue, or dead when their
/// attempts are used up. Returns how many were rescued.
pub async fn rescue_expired(db: &Db) -> Result<u64, DbErr> {
    let now = Utc::now();
    let expired = || {
        Jobs::update_many()
            .col_expr(Column::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(
                Column::LeaseExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(Column::UpdatedAt, Expr::value(now))
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

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Jobs::find_by_id(id).one(conn).await
}

/// Filters of the admin job list, newest first.
#[derive(Debug, Default)]
pub struct JobFilter {
    pub queue: Option<String>,
    pub state: Option<JobState>,
    pub kind: Option<String>,
    /// Only jobs older than this id (the cursor).
    pub before: Option<Uuid>,
}

pub async fn list(
    conn: &impl ConnectionTrait,
    filter: JobFilter,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    let mut query = Jobs::find().order_by_desc(Column::Id).limit(limit);
    if let Some(queue) = filter.queue {
        query = query.filter(Column::Queue.eq(queue));
    }
    if let Some(state) = filter.state {
        query = query.filter(Column::State.eq(state));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(Column::Kind.eq(kind));
    }
    if let Some(before) = filter.before {
        query = query.filter(Column::Id.lt(before));
    }
    query.all(conn).await
}

/// Makes finished or failed jobs run again with fresh attempts: `dead`, `cancelled`,
/// `completed` or `retryable` ones matching `condition`. Returns how many.
async fn reset(conn: &impl ConnectionTrait, condition: sea_orm::Condition) -> Result<u64, DbErr> {
    let now = Utc::now();
    let states = [
        JobState::Dead,
        JobState::Cancelled,
        JobState::Completed,
        JobState::Retryable,
    ];
    Ok(Jobs::update_many()
        .col_expr(Column::State, Expr::value(JobState::Available))
        .col_expr(Column::Attempt, Expr::value(0))
        .col_expr(Column::RunAt, Expr::value(now))
        .col_expr(
            Column::FinishedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::State.is_in(states))
        .filter(condition)
        .exec(conn)
        .await?
        .rows_affected)
}

pub async fn retry(conn: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    Ok(reset(conn, sea_orm::Condition::all().add(Column::Id.eq(id))).await? == 1)
}

/// Every dead job of `kind` (the dead-letter queue's replay).
pub async fn replay_dead(conn: &impl ConnectionTrait, kind: &str) -> Result<u64, DbErr> {
    reset(
        conn,
        sea_orm::Condition::all()
            .add(Column::Kind.eq(kind))
            .add(Column::State.eq(JobState::Dead)),
    )
    .await
}

/// Cancels a job that has not started; `false` if it is running or finished.
pub async fn cancel(conn: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    let now = Utc::now();
    Ok(Jobs::update_many()
        .col_expr(Column::State, Expr::value(JobState::Cancelled))
        .col_expr(Column::FinishedAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::State.is_in(WAITING))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Jobs per queue and state, and per queue the age of the oldest due job (for gauges).
pub async fn depth(db: &Db) -> Result<(Vec<(String, String, i64)>, Vec<(String, f64)>), DbErr> {
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

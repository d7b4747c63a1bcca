//! Transitions an operator asks for (through `job_admin`): run finished or failed jobs
//! again with fresh attempts, or cancel a job that has not started. Which states allow
//! them is the queue's rule, so they live here.

use super::super::entity::{Column, Entity as Jobs, JobState};
use super::WAITING;
use crate::db::clock;
use crate::db::ids::JobId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// Makes finished or failed jobs run again with fresh attempts: `dead`, `cancelled`,
/// `completed` or `retryable` ones matching `condition`. Returns how many.
async fn reset(conn: &impl ConnectionTrait, condition: Condition) -> Result<u64, DbErr> {
    // Due now on the database's clock, which decides when jobs are claimed.
    let now = clock::now(conn).await?;
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

/// Runs job `id` again with fresh attempts; `false` if it is waiting or running.
pub async fn restart(conn: &impl ConnectionTrait, id: JobId) -> Result<bool, DbErr> {
    Ok(reset(conn, Condition::all().add(Column::Id.eq(id))).await? == 1)
}

/// Every dead job of `kind` (the dead-letter queue's replay). Returns how many.
pub async fn restart_dead(conn: &impl ConnectionTrait, kind: &str) -> Result<u64, DbErr> {
    reset(
        conn,
        Condition::all()
            .add(Column::Kind.eq(kind))
            .add(Column::State.eq(JobState::Dead)),
    )
    .await
}

/// Cancels a job that has not started; `false` if it is running or finished.
pub async fn cancel(conn: &impl ConnectionTrait, id: JobId) -> Result<bool, DbErr> {
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

//! The admin queries over the queue (list, find) and the operator's actions on it
//! (retry, cancel, replay), which apply the queue's own transitions from `jobs::store`
//! and wake the workers when a job becomes due again.

use super::error::JobAdminError;
use crate::db::ids::JobId;
use crate::db::pagination::{Page, PageRequest};
use crate::jobs::entity::{Column, Entity as Jobs};
use crate::jobs::{JobState, Model, store};
use crate::state::AppState;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// Filters of the admin job list, newest first.
#[derive(Debug, Default)]
pub struct JobFilter {
    pub queue: Option<String>,
    pub state: Option<JobState>,
    pub kind: Option<String>,
    /// Only jobs older than this id (the cursor).
    pub before: Option<JobId>,
}

/// Up to `limit` jobs matching `filter`, newest first.
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

/// The kinds with dead jobs and how many each has, by kind (what a replay can target).
pub async fn dead_kinds(state: &AppState) -> Result<Vec<(String, i64)>, JobAdminError> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(Jobs::find()
        .select_only()
        .column(Column::Kind)
        .column_as(Column::Id.count(), "jobs")
        .filter(Column::State.eq(JobState::Dead))
        .group_by(Column::Kind)
        .order_by_asc(Column::Kind)
        .into_tuple()
        .all(&state.db().read())
        .await?)
}

pub async fn find(conn: &impl ConnectionTrait, id: JobId) -> Result<Option<Model>, DbErr> {
    Jobs::find_by_id(id).one(conn).await
}

/// One page of the job list, read from a replica when there is one; the cursor continues
/// after the page's oldest job.
pub async fn page(
    state: &AppState,
    filter: JobFilter,
    request: PageRequest<JobId>,
) -> Result<Page<Model>, JobAdminError> {
    let filter = JobFilter {
        before: request.after,
        ..filter
    };
    let rows = list(&state.db().read(), filter, request.rows()).await?;
    Ok(Page::from_rows(rows, request.limit, |job| job.id))
}

/// Job `id` as the primary has it (right after an action, a replica may lag behind).
pub async fn get(state: &AppState, id: JobId) -> Result<Model, JobAdminError> {
    find(state.db().write(), id)
        .await?
        .ok_or(JobAdminError::NotFound)
}

/// Runs a finished, failed or cancelled job again with fresh attempts.
pub async fn retry(state: &AppState, id: JobId) -> Result<Model, JobAdminError> {
    let job = get(state, id).await?;
    if !store::restart(state.db().write(), id).await? {
        return Err(JobAdminError::NotRetryable(job.state));
    }
    state.jobs().wake();
    get(state, id).await
}

/// Cancels a job that has not started.
pub async fn cancel(state: &AppState, id: JobId) -> Result<Model, JobAdminError> {
    let job = get(state, id).await?;
    if !store::cancel(state.db().write(), id).await? {
        return Err(JobAdminError::NotCancellable(job.state));
    }
    get(state, id).await
}

/// Runs every dead job of `kind` again; returns how many.
pub async fn replay(state: &AppState, kind: &str) -> Result<u64, JobAdminError> {
    if kind.trim().is_empty() {
        return Err(JobAdminError::NoKind);
    }
    let replayed = store::restart_dead(state.db().write(), kind).await?;
    state.jobs().wake();
    Ok(replayed)
}

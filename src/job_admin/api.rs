//! Admin endpoints for the queue: list and inspect jobs, retry, cancel, and replay the
//! dead-letter queue of a kind. Every one needs the `ManageJobs` permission.

use super::service::{self, JobFilter};
use crate::auth::{BearerAuth, Permission};
use crate::db::ids::JobId;
use crate::db::pagination::PageRequest;
use crate::error::ApiError;
use crate::jobs::{JobState, Model};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

#[derive(Tags)]
enum JobTags {
    /// The durable job queue (admins).
    Jobs,
}

/// A job and its history.
#[derive(Object)]
struct Job {
    id: JobId,
    kind: String,
    queue: String,
    state: JobState,
    payload: serde_json::Value,
    priority: i32,
    attempt: i32,
    max_attempts: i32,
    run_at: DateTime<Utc>,
    /// One entry per failed attempt: `{attempt, at, error}`.
    errors: Vec<serde_json::Value>,
    unique_key: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl From<Model> for Job {
    fn from(m: Model) -> Self {
        Self {
            payload: serde_json::from_str(&m.payload).unwrap_or_default(),
            errors: serde_json::from_str(&m.errors).unwrap_or_default(),
            id: m.id,
            kind: m.kind,
            queue: m.queue,
            state: m.state,
            priority: m.priority,
            attempt: m.attempt,
            max_attempts: m.max_attempts,
            run_at: m.run_at,
            unique_key: m.unique_key,
            created_at: m.created_at,
            finished_at: m.finished_at,
        }
    }
}

crate::list_object!(JobList of Job);

#[derive(Object)]
struct ReplayRequest {
    /// Every dead job of this kind runs again with fresh attempts.
    kind: String,
}

#[derive(Object)]
struct Replayed {
    replayed: u64,
}

#[derive(Default)]
pub struct JobsApi;

#[OpenApi(tag = "JobTags::Jobs")]
impl JobsApi {
    /// List jobs, newest first
    #[oai(path = "/jobs", method = "get", operation_id = "list_jobs")]
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per documented query parameter"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        queue: Query<Option<String>>,
        #[oai(name = "state")] job_state: Query<Option<JobState>>,
        kind: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<JobList>, ApiError> {
        auth.0.require(Permission::ManageJobs)?;
        let request = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let filter = JobFilter {
            queue: queue.0,
            state: job_state.0,
            kind: kind.0,
            before: None,
        };
        let page = service::page(&state, filter, request).await?;
        Ok(Json(JobList::from(page)))
    }

    /// One job with its error history
    #[oai(path = "/jobs/:id", method = "get", operation_id = "get_job")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<JobId>,
    ) -> Result<Json<Job>, ApiError> {
        auth.0.require(Permission::ManageJobs)?;
        Ok(Json(service::get(&state, id.0).await?.into()))
    }

    /// Run a finished, failed or cancelled job again with fresh attempts
    #[oai(path = "/jobs/:id/retry", method = "post", operation_id = "retry_job")]
    async fn retry(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<JobId>,
    ) -> Result<Json<Job>, ApiError> {
        auth.0.require(Permission::ManageJobs)?;
        Ok(Json(service::retry(&state, id.0).await?.into()))
    }

    /// Cancel a job that has not started
    #[oai(
        path = "/jobs/:id/cancel",
        method = "post",
        operation_id = "cancel_job"
    )]
    async fn cancel(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<JobId>,
    ) -> Result<Json<Job>, ApiError> {
        auth.0.require(Permission::ManageJobs)?;
        Ok(Json(service::cancel(&state, id.0).await?.into()))
    }

    /// Replay the dead-letter queue of one kind
    #[oai(path = "/jobs/replay", method = "post", operation_id = "replay_jobs")]
    async fn replay(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<ReplayRequest>,
    ) -> Result<Json<Replayed>, ApiError> {
        auth.0.require(Permission::ManageJobs)?;
        let replayed = service::replay(&state, &body.kind).await?;
        Ok(Json(Replayed { replayed }))
    }
}

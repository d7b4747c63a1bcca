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
use poem_openapi::types::Example;
use poem_openapi::{Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum JobTags {
    /// The durable job queue (admins).
    Jobs,
}

/// A job and its history.
#[derive(Object)]
#[oai(example)]
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
    #[oai(nullable)]
    unique_key: Option<String>,
    created_at: DateTime<Utc>,
    #[oai(nullable)]
    finished_at: Option<DateTime<Utc>>,
}

impl Example for Job {
    fn example() -> Self {
        let at = crate::rest::examples::example_time();
        Self {
            id: JobId(Uuid::nil()),
            kind: "email.send".into(),
            queue: "mail".into(),
            state: JobState::Dead,
            payload: serde_json::json!({"to": "ada@example.com", "subject": "Welcome"}),
            priority: 0,
            attempt: 8,
            max_attempts: 8,
            run_at: at,
            errors: vec![serde_json::json!({
                "attempt": 8,
                "at": "2025-11-24T16:00:00Z",
                "error": "550 mailbox unavailable",
            })],
            unique_key: None,
            created_at: at,
            finished_at: Some(at),
        }
    }
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
#[oai(example)]
struct ReplayRequest {
    /// Every dead job of this kind runs again with fresh attempts.
    #[oai(deserialize_with = "crate::rest::body::text")]
    kind: String,
}

impl Example for ReplayRequest {
    fn example() -> Self {
        Self {
            kind: "email.send".into(),
        }
    }
}

#[derive(Object)]
#[oai(example)]
struct Replayed {
    replayed: u64,
}

impl Example for Replayed {
    fn example() -> Self {
        Self { replayed: 3 }
    }
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

//! The queues page, the job page, and the operator's actions on dead jobs (retry, cancel,
//! replay a kind) — through `job_admin`, exactly as the API does them.

use super::session::CsrfForm;
use super::{csrf_checked, failed, not_found, permitted, render, timed};
use crate::admin::csrf;
use crate::admin::pages::Chrome;
use crate::admin::queues::{self, JobPage, QueuesPage};
use crate::admin::service::Staff;
use crate::admin::web::{nonce, see_other};
use crate::auth::Permission;
use crate::db::ids::JobId;
use crate::job_admin::{JobAdminError, service};
use crate::state::AppState;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Response, handler};
use serde::Deserialize;
use std::time::Instant;

#[derive(Deserialize)]
pub struct PageQuery {
    cursor: Option<String>,
    #[serde(default)]
    notice: String,
    /// How many jobs a replay ran again (with `notice=replayed`).
    replayed: Option<u64>,
}

#[derive(Deserialize)]
pub struct ReplayForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    kind: String,
}

/// 303 to `path` with the `?notice=` code (a fixed word) to show there.
fn back(path: &str, notice: &str) -> Response {
    see_other(&format!("{path}?notice={notice}"), &[])
}

fn job_path(id: JobId) -> String {
    format!("/admin/queues/jobs/{id}")
}

/// What a refused or failed action shows: a missing job is a 404 page, a job in the wrong
/// state or a replay without a kind a notice on the page it came from.
fn refused(staff: &Staff, error: JobAdminError, from: &str) -> Response {
    match error {
        JobAdminError::NotFound => not_found(staff, error.to_string()),
        JobAdminError::Db(e) => failed(staff, "The job action", &e),
        JobAdminError::NotRetryable(_) => back(from, "not-retryable"),
        JobAdminError::NotCancellable(_) => back(from, "not-cancellable"),
        JobAdminError::NoKind => back(from, "no-kind"),
    }
}

/// The checks of every action: the permission, then the form's CSRF token.
#[expect(
    clippy::result_large_err,
    reason = "the error is the page to answer with, returned once per request"
)]
fn may_act(staff: &Staff, csrf_token: &str) -> Result<(), Response> {
    permitted(staff, Permission::ManageJobs)?;
    csrf_checked(staff, csrf_token)
}

/// `GET /admin/queues`: depth, throughput and the dead-letter queue.
#[handler]
pub async fn show(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Query(query): Query<PageQuery>,
) -> Response {
    let started = Instant::now();
    if let Err(resp) = permitted(&staff, Permission::ManageJobs) {
        return resp;
    }
    let loaded = match queues::load(&state, query.cursor.as_deref()).await {
        Ok(loaded) => loaded,
        Err(e) => return failed(&staff, "Loading the queues", &e),
    };
    let nonce = nonce();
    let page = QueuesPage {
        chrome: Chrome::new(&nonce, Some(&staff)),
        csrf_token: csrf::token(&staff.session),
        notice: queues::notice(&query.notice, query.replayed),
        queues: loaded,
    };
    timed(render(StatusCode::OK, &page, &nonce), started)
}

/// `GET /admin/queues/jobs/{id}`: one job with its error history.
#[handler]
pub async fn job(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path(id): Path<uuid::Uuid>,
    Query(query): Query<PageQuery>,
) -> Response {
    let started = Instant::now();
    if let Err(resp) = permitted(&staff, Permission::ManageJobs) {
        return resp;
    }
    let job = match queues::job(&state, JobId(id)).await {
        Ok(job) => job,
        Err(e) => return refused(&staff, e, "/admin/queues"),
    };
    let nonce = nonce();
    let page = JobPage {
        chrome: Chrome::new(&nonce, Some(&staff)),
        csrf_token: csrf::token(&staff.session),
        notice: queues::notice(&query.notice, None),
        job,
    };
    timed(render(StatusCode::OK, &page, &nonce), started)
}

/// `POST /admin/queues/jobs/{id}/{action}`: `retry` runs the job again with fresh
/// attempts, `cancel` cancels a job that has not started.
#[handler]
pub async fn act(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path((id, action)): Path<(uuid::Uuid, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(resp) = may_act(&staff, &form.csrf_token) {
        return resp;
    }
    let id = JobId(id);
    let done = match action.as_str() {
        "retry" => service::retry(&state, id).await.map(|_| "retried"),
        "cancel" => service::cancel(&state, id).await.map(|_| "cancelled"),
        _ => return not_found(&staff, "No such action."),
    };
    match done {
        Ok(notice) => back(&job_path(id), notice),
        Err(e) => refused(&staff, e, &job_path(id)),
    }
}

/// `POST /admin/queues/replay`: runs every dead job of a kind again.
#[handler]
pub async fn replay(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Form(form): Form<ReplayForm>,
) -> Response {
    if let Err(resp) = may_act(&staff, &form.csrf_token) {
        return resp;
    }
    match service::replay(&state, &form.kind).await {
        Ok(replayed) => see_other(
            &format!("/admin/queues?notice=replayed&replayed={replayed}"),
            &[],
        ),
        Err(e) => refused(&staff, e, "/admin/queues"),
    }
}

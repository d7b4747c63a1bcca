//! The reports page, requesting a report and downloading one (`RunReports`, as in the
//! API's `/reports`).

use super::{
    CursorQuery, csrf_checked, failed, message, not_found, permitted, permitted_page, render, timed,
};
use crate::admin::reports::{self, PAGE_SIZE, ReportsPage};
use crate::admin::service::Staff;
use crate::admin::web::{nonce, see_other};
use crate::auth::Permission;
use crate::reports::ReportsError;
use crate::reports::service::{self, NewReport};
use crate::state::AppState;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Body, Response, handler};
use serde::Deserialize;
use std::time::Instant;

/// `GET /admin/reports`: recent reports, newest first, and the request form.
#[handler]
pub async fn list(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Query(query): Query<CursorQuery>,
) -> Response {
    let started = Instant::now();
    let page = match permitted_page(&staff, Permission::RunReports, PAGE_SIZE, &query.cursor) {
        Ok(page) => page,
        Err(resp) => return resp,
    };
    match service::list(&state, page).await {
        Ok(found) => {
            let nonce = nonce();
            let page = ReportsPage::new(&nonce, &staff, found, reports::notice(&query.notice));
            timed(render(StatusCode::OK, &page, &nonce), started)
        }
        Err(e) => failed(&staff, "Listing reports", &e),
    }
}

#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// `POST /admin/reports`: requests a report as `POST /reports` does, then 303 to the list.
#[handler]
pub async fn request(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Form(form): Form<RequestForm>,
) -> Response {
    if let Err(resp) = permitted(&staff, Permission::RunReports) {
        return resp;
    }
    if let Err(resp) = csrf_checked(&staff, &form.csrf_token) {
        return resp;
    }
    let parsed = match reports::parse_type(&form.kind) {
        Ok(kind) => reports::parse_window(&form.from, &form.to).map(|window| (kind, window)),
        Err(why) => Err(why),
    };
    let (kind, window) = match parsed {
        Ok(parsed) => parsed,
        Err(why) => {
            let nonce = nonce();
            let page = ReportsPage::refused(&nonce, &staff, why);
            return render(StatusCode::BAD_REQUEST, &page, &nonce);
        }
    };
    let new = NewReport {
        kind,
        window,
        requested_by: format!("user:{}", staff.user.id),
    };
    match service::request(&state, new, None, |_| no_replay()).await {
        Ok(_) => see_other("/admin/reports?notice=requested", &[]),
        Err(e) => failed(&staff, "Requesting the report", &e),
    }
}

/// Never called: without an idempotency key nothing is stored for replays.
fn no_replay() -> crate::idempotency::StoredResponse {
    crate::idempotency::StoredResponse {
        status: 202,
        headers: Vec::new(),
        body: String::new(),
    }
}

/// `GET /admin/reports/{id}/download`: the CSV, streamed as `GET /reports/{id}/download`.
#[handler]
pub async fn download(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path(id): Path<String>,
) -> Response {
    if let Err(resp) = permitted(&staff, Permission::RunReports) {
        return resp;
    }
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return not_found(&staff, "There is no such report.");
    };
    match service::download(&state, id).await {
        Ok(download) => Response::builder()
            .content_type("text/csv; charset=utf-8")
            .header(
                "content-disposition",
                format!("attachment; filename=\"{}\"", download.file_name()),
            )
            .header("content-length", download.report.bytes)
            .body(Body::from_bytes_stream(download.into_stream())),
        Err(ReportsError::NotFound) => not_found(&staff, "There is no such report."),
        Err(e @ ReportsError::NotReady(_)) => message(
            StatusCode::CONFLICT,
            Some(&staff),
            "Conflict",
            e.to_string(),
        ),
        Err(e) => failed(&staff, "Downloading the report", &e),
    }
}

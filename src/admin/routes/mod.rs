//! The console's handlers, one file per page: thin, as everywhere — parse the form, check
//! the permission and the CSRF token, call the service, render. The helpers below are what
//! every page shares.

pub mod api_keys;
pub mod cache;
pub mod content;
pub mod database;
mod ops;
pub mod orders;
pub mod overview;
pub mod queues;
pub mod ratelimits;
pub mod reports;
pub mod resilience;
pub mod route_stats;
pub mod session;
pub mod settings;
pub mod users;
pub mod webhooks;

use super::pages::{Chrome, MessagePage};
use super::service::{AdminError, Staff};
use super::web::{html, nonce};
use crate::auth::Permission;
use crate::db::pagination::PageRequest;
use askama::Template;
use poem::Response;
use poem::http::StatusCode;
use std::time::Instant;

/// The `?notice=` code a page is redirected to after a change.
#[derive(serde::Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    pub notice: String,
}

/// The `?cursor=` and `?notice=` of a list page without filters.
#[derive(serde::Deserialize)]
pub struct CursorQuery {
    #[serde(default)]
    pub cursor: String,
    #[serde(default)]
    pub notice: String,
}

/// For a plain list page: 403 unless `staff` holds `permission`, then the page of `size`
/// rows after `cursor`, or the 400 page for a cursor the list did not make.
#[expect(
    clippy::result_large_err,
    reason = "the error is the page to answer with, returned once per request"
)]
pub fn permitted_page<K: serde::de::DeserializeOwned>(
    staff: &Staff,
    permission: Permission,
    size: u64,
    cursor: &str,
) -> Result<PageRequest<K>, Response> {
    permitted(staff, permission)?;
    PageRequest::parse(Some(size), Some(cursor)).map_err(|_| {
        let text = "That page link is not valid; start from the first page.".to_string();
        message(StatusCode::BAD_REQUEST, Some(staff), "Bad request", text)
    })
}

/// The filter a list page reads (`filter`, parsed by the page) and its page of `size`
/// rows after `cursor`, or why either is refused (the cursor's fault first).
pub fn paged<F, K: serde::de::DeserializeOwned>(
    size: u64,
    cursor: &str,
    filter: Result<F, String>,
) -> Result<(F, PageRequest<K>), String> {
    let page = PageRequest::parse(Some(size), Some(cursor)).map_err(|e| e.to_string())?;
    Ok((filter?, page))
}

/// Renders `page`, or a plain 500 when the template fails (logged).
pub fn render(status: StatusCode, page: &impl Template, nonce: &str) -> Response {
    match page.render() {
        Ok(body) => html(status, body, nonce),
        Err(e) => {
            tracing::error!(error = %e, "rendering an admin page failed");
            Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .finish()
        }
    }
}

/// A page with a title and one message.
pub fn message(
    status: StatusCode,
    staff: Option<&Staff>,
    title: &'static str,
    text: String,
) -> Response {
    let nonce = nonce();
    let page = MessagePage {
        chrome: Chrome::new(&nonce, staff),
        title,
        message: text,
    };
    render(status, &page, &nonce)
}

/// The 404 page, saying `text` (what there is no such thing of).
pub fn not_found(staff: &Staff, text: impl Into<String>) -> Response {
    message(StatusCode::NOT_FOUND, Some(staff), "Not found", text.into())
}

/// The 403 page unless `staff` holds `permission` — the same check the API makes.
#[expect(
    clippy::result_large_err,
    reason = "the error is the page to answer with, returned once per request"
)]
pub fn permitted(staff: &Staff, permission: Permission) -> Result<(), Response> {
    if permission.granted_to(staff.user.role) {
        return Ok(());
    }
    Err(message(
        StatusCode::FORBIDDEN,
        Some(staff),
        "Forbidden",
        "Your role does not allow this page or action.".into(),
    ))
}

/// The 403 page unless `token` is this session's CSRF token.
#[expect(
    clippy::result_large_err,
    reason = "the error is the page to answer with, returned once per request"
)]
pub fn csrf_checked(staff: &Staff, token: &str) -> Result<(), Response> {
    if super::csrf::verify(&staff.session, token) {
        return Ok(());
    }
    Err(message(
        StatusCode::FORBIDDEN,
        Some(staff),
        "Forbidden",
        AdminError::Csrf.to_string(),
    ))
}

/// A 500 page for a failure the operator can only retry; the cause is logged, not shown.
pub fn failed(staff: &Staff, what: &str, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %error, "admin console: {what} failed");
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        Some(staff),
        "Error",
        format!("{what} failed; try again."),
    )
}

/// `Server-Timing` for the time spent building a page.
pub fn timed(mut resp: Response, started: Instant) -> Response {
    let value = format!("render;dur={:.2}", started.elapsed().as_secs_f64() * 1000.0);
    if let Ok(value) = value.parse() {
        resp.headers_mut().insert("server-timing", value);
    }
    resp
}

/// Seconds since the Unix epoch as an RFC 3339 UTC timestamp.
pub fn timestamp(unix: u64) -> String {
    chrono::DateTime::from_timestamp(i64::try_from(unix).unwrap_or(0), 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

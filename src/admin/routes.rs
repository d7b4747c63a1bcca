//! The console's handlers: thin, as everywhere — parse the form, call the service, render.

use super::pages::{Chrome, LoginPage, MessagePage, OverviewLive, OverviewPage};
use super::service::{self, AdminError, Staff};
use super::web::{LOGIN_COOKIE, SESSION_COOKIE, cookie, html, nonce, see_other, set_cookie};
use super::{csrf, overview};
use crate::rest::client_ip::client_ip;
use crate::state::AppState;
use askama::Template;
use poem::http::StatusCode;
use poem::web::{Data, Form};
use poem::{Request, Response, handler};
use serde::Deserialize;
use std::time::Instant;

/// How long the sign-in form's CSRF cookie lives.
const LOGIN_FORM_TTL: u64 = 3600;

/// Renders `page`, or a plain 500 when the template fails (logged).
fn render(status: StatusCode, page: &impl Template, nonce: &str) -> Response {
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

fn login_page(
    state: &AppState,
    csrf_token: String,
    email: String,
    error: Option<&AdminError>,
) -> Response {
    let status = match error {
        None => StatusCode::OK,
        Some(AdminError::BadCredentials | AdminError::Disabled) => StatusCode::UNAUTHORIZED,
        Some(AdminError::Throttled { .. }) => StatusCode::TOO_MANY_REQUESTS,
        Some(AdminError::Csrf) => StatusCode::FORBIDDEN,
        Some(e @ (AdminError::Db(_) | AdminError::Auth(_))) => {
            tracing::error!(error = %e, "admin sign-in failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    let nonce = nonce();
    let cookie = set_cookie(
        state,
        LOGIN_COOKIE,
        &csrf_token,
        "/admin/login",
        LOGIN_FORM_TTL,
    );
    let page = LoginPage {
        chrome: Chrome::new(&nonce, None),
        csrf_token,
        email,
        error: error.map(|e| match e {
            AdminError::Db(_) | AdminError::Auth(_) => {
                "Sign-in is unavailable; try again shortly.".into()
            }
            other => other.to_string(),
        }),
    };
    let mut resp = render(status, &page, &nonce);
    if let Some(AdminError::Throttled { retry_after }) = error {
        resp.headers_mut()
            .insert(poem::http::header::RETRY_AFTER, (*retry_after).into());
    }
    if let Ok(value) = cookie.parse() {
        resp.headers_mut()
            .append(poem::http::header::SET_COOKIE, value);
    }
    resp
}

/// `GET /admin/login`: the form, with a fresh double-submit CSRF value.
#[handler]
pub async fn login_form(state: Data<&AppState>) -> Response {
    login_page(
        &state,
        crate::auth::secret::random_token(24),
        String::new(),
        None,
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
}

/// `POST /admin/login`: a session cookie and 303 to the overview, or the form again.
#[handler]
pub async fn login(req: &Request, state: Data<&AppState>, Form(form): Form<LoginForm>) -> Response {
    if !csrf::verify_login(cookie(req, LOGIN_COOKIE), &form.csrf_token) {
        let fresh = crate::auth::secret::random_token(24);
        return login_page(&state, fresh, form.email, Some(&AdminError::Csrf));
    }
    let ip = client_ip(req, &state.config().server);
    match service::sign_in(&state, &form.email, &form.password, ip).await {
        Ok(token) => {
            let lifetime = state.config().admin.session_lifetime.get().as_secs();
            see_other(
                "/admin/",
                &[
                    set_cookie(&state, SESSION_COOKIE, &token, "/admin", lifetime),
                    set_cookie(&state, LOGIN_COOKIE, "", "/admin/login", 0),
                ],
            )
        }
        Err(e) => login_page(&state, form.csrf_token, form.email, Some(&e)),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /admin/logout`: ends the session.
#[handler]
pub async fn logout(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf::verify(&staff.session, &form.csrf_token) {
        return message(
            StatusCode::FORBIDDEN,
            Some(&staff),
            "Forbidden",
            AdminError::Csrf.to_string(),
        );
    }
    if let Err(e) = service::sign_out(&state, &staff).await {
        tracing::error!(error = %e, "ending an admin session failed");
        return message(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(&staff),
            "Error",
            "Signing out failed; try again.".into(),
        );
    }
    see_other(
        "/admin/login",
        &[set_cookie(&state, SESSION_COOKIE, "", "/admin", 0)],
    )
}

/// `Server-Timing` for the time spent building a page.
fn timed(mut resp: Response, started: Instant) -> Response {
    let value = format!("render;dur={:.2}", started.elapsed().as_secs_f64() * 1000.0);
    if let Ok(value) = value.parse() {
        resp.headers_mut().insert("server-timing", value);
    }
    resp
}

/// `GET /admin/`: the overview of this process.
#[handler]
pub async fn overview_page(state: Data<&AppState>, staff: Data<&Staff>) -> Response {
    let started = Instant::now();
    let snap = overview::snapshot(&state).await;
    let nonce = nonce();
    let page = OverviewPage {
        chrome: Chrome::new(&nonce, Some(&staff)),
        overview: overview::Overview::new(&snap, staff.user.role),
        version: env!("CARGO_PKG_VERSION"),
        uptime: humantime::format_duration(std::time::Duration::from_secs(snap.uptime_secs))
            .to_string(),
        refresh_ms: state.config().admin.refresh_interval.get().as_millis(),
        taken_at: taken_at(snap.taken_at),
    };
    timed(render(StatusCode::OK, &page, &nonce), started)
}

/// `GET /admin/overview/live`: the overview's live panel alone.
#[handler]
pub async fn overview_live(state: Data<&AppState>, staff: Data<&Staff>) -> Response {
    let started = Instant::now();
    let snap = overview::snapshot(&state).await;
    let page = OverviewLive {
        overview: overview::Overview::new(&snap, staff.user.role),
        taken_at: taken_at(snap.taken_at),
    };
    timed(render(StatusCode::OK, &page, &nonce()), started)
}

fn taken_at(unix: u64) -> String {
    chrono::DateTime::from_timestamp(i64::try_from(unix).unwrap_or(0), 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

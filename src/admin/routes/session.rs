//! Signing in and out.

use super::{csrf_checked, failed, render};
use crate::admin::csrf;
use crate::admin::pages::{Chrome, LoginPage};
use crate::admin::service::{self, AdminError, Staff};
use crate::admin::web::{LOGIN_COOKIE, SESSION_COOKIE, cookie, nonce, see_other, set_cookie};
use crate::rest::client_ip::client_ip;
use crate::state::AppState;
use poem::http::StatusCode;
use poem::web::{Data, Form};
use poem::{Request, Response, handler};
use serde::Deserialize;

/// How long the sign-in form's CSRF cookie lives.
const LOGIN_FORM_TTL: u64 = 3600;

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

/// A form that carries only its CSRF token (sign-out, confirmations).
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf_token: String,
}

/// `POST /admin/logout`: ends the session.
#[handler]
pub async fn logout(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(resp) = csrf_checked(&staff, &form.csrf_token) {
        return resp;
    }
    if let Err(e) = service::sign_out(&state, &staff).await {
        return failed(&staff, "Signing out", &e);
    }
    see_other(
        "/admin/login",
        &[set_cookie(&state, SESSION_COOKIE, "", "/admin", 0)],
    )
}

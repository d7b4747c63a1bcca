//! HTTP details of the console: its cookies, the per-response CSP nonce, and rendering
//! pages and redirects.

use crate::state::AppState;
use poem::Response;
use poem::http::{HeaderValue, StatusCode, header};

pub use crate::rest::cookies::cookie;

pub const SESSION_COOKIE: &str = "levee_admin";
/// The sign-in form's double-submit CSRF value.
pub const LOGIN_COOKIE: &str = "levee_admin_login";

/// Cookies are `Secure` when levee serves TLS or is reached over https behind a proxy.
fn secure(state: &AppState) -> bool {
    let server = &state.config().server;
    server.tls.is_some()
        || server
            .public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
}

/// A `Set-Cookie` value scoped to the console; `max_age` 0 deletes the cookie.
pub fn set_cookie(state: &AppState, name: &str, value: &str, path: &str, max_age: u64) -> String {
    format!(
        "{name}={value}; Max-Age={max_age}; Path={path}; HttpOnly; SameSite=Strict{}",
        if secure(state) { "; Secure" } else { "" }
    )
}

/// A fresh random value for one response's `script-src` nonce.
pub fn nonce() -> String {
    crate::auth::secret::random_token(16)
}

/// An HTML page with the console's strict policy: scripts only with this response's
/// nonce, styles and images only from levee's own files, forms only back to levee.
pub fn html(status: StatusCode, body: String, nonce: &str) -> Response {
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    );
    let mut resp = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(body);
    if let Ok(value) = HeaderValue::from_str(&csp) {
        resp.headers_mut().insert("content-security-policy", value);
    }
    resp
}

/// 303 See Other to `location`, with optional cookies.
pub fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut resp = Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store")
        .finish();
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            resp.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    resp
}

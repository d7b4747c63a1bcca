//! Headers every response gets: its request id, the browser hardening headers, HSTS under
//! TLS, and a Content-Security-Policy unless the response brings its own.

use super::observe::REQUEST_ID_HEADER;
use poem::Response;
use poem::http::HeaderValue;
use poem::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};

// Values made at compile time: `from_static` outside a const checks every byte per call.
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const DENY: HeaderValue = HeaderValue::from_static("DENY");
const NO_REFERRER: HeaderValue = HeaderValue::from_static("no-referrer");
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000");
/// The docs page uses inline scripts and styles, all served by levee itself.
const HTML_CSP: HeaderValue = HeaderValue::from_static(
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
);
const API_CSP: HeaderValue = HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");

pub(super) fn set_standard(resp: &mut Response, request_id: &str, hsts: bool) {
    let is_html = resp
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, v);
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    headers.insert(X_FRAME_OPTIONS, DENY);
    headers.insert(REFERRER_POLICY, NO_REFERRER);
    // A response with its own policy (the admin console's, with a nonce) keeps it.
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        headers.insert(
            CONTENT_SECURITY_POLICY,
            if is_html { HTML_CSP } else { API_CSP },
        );
    }
    if hsts {
        headers.insert(STRICT_TRANSPORT_SECURITY, HSTS);
    }
}

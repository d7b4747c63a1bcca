//! The outermost layer: request ids, W3C trace context, the JSON access log, RED metrics
//! (`http_server_request_duration_seconds`) and standard response headers.

use crate::error::problem_for;
use crate::stats::Recorder;
use poem::PathPattern;
use poem::http::{HeaderValue, Method};
use poem::{Endpoint, IntoResponse, Request, Response, Result};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The request's id: the caller's `X-Request-Id` when it is sane, otherwise generated.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// W3C trace context of the request (<https://www.w3.org/TR/trace-context/>).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: String,
    /// The caller's span, when a valid `traceparent` arrived.
    pub parent_id: Option<String>,
    /// This request's own span id, for outgoing `traceparent` headers.
    pub span_id: String,
    pub sampled: bool,
}

impl TraceContext {
    /// Parses `traceparent: 00-<32 hex>-<16 hex>-<2 hex>`; invalid headers start a new trace.
    pub fn from_header(value: Option<&str>) -> Self {
        let span_id = random_hex(16);
        let parsed = value.and_then(|v| {
            let mut parts = v.trim().split('-');
            let (version, trace, parent, flags) =
                (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            let valid = version.len() == 2
                && version != "ff"
                && is_lower_hex(trace, 32)
                && is_lower_hex(parent, 16)
                && is_lower_hex(flags, 2)
                && trace.bytes().any(|b| b != b'0')
                && parent.bytes().any(|b| b != b'0');
            valid.then(|| {
                (
                    trace.to_string(),
                    parent.to_string(),
                    u8::from_str_radix(flags, 16).unwrap_or(0) & 1 == 1,
                )
            })
        });
        match parsed {
            Some((trace_id, parent, sampled)) => Self {
                trace_id,
                parent_id: Some(parent),
                span_id,
                sampled,
            },
            None => Self {
                trace_id: random_hex(32),
                parent_id: None,
                span_id,
                sampled: false,
            },
        }
    }

    /// The `traceparent` value for calls this request makes downstream.
    pub fn child_header(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            self.trace_id,
            self.span_id,
            u8::from(self.sampled)
        )
    }
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn random_hex(len: usize) -> String {
    let mut hex = uuid::Uuid::new_v4().simple().to_string();
    hex.truncate(len);
    hex
}

/// The method as a metric label: anything outside the standard set is `other`, so clients
/// inventing methods cannot create series without bound.
fn method_label(method: &Method) -> &'static str {
    const STANDARD: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    STANDARD
        .iter()
        .find(|m| *m == method)
        .map_or("other", Method::as_str)
}

fn valid_request_id(v: &str) -> bool {
    !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic())
}

pub struct Observe<E> {
    inner: E,
    hsts: bool,
    stats: Arc<Recorder>,
}

impl<E> Observe<E> {
    pub fn new(inner: E, hsts: bool, stats: Arc<Recorder>) -> Self {
        Self { inner, hsts, stats }
    }
}

impl<E: Endpoint> Endpoint for Observe<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let started = Instant::now();
        let request_id = req
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| valid_request_id(v))
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
        let trace = TraceContext::from_header(
            req.headers()
                .get("traceparent")
                .and_then(|v| v.to_str().ok()),
        );
        let authorized = req
            .headers()
            .contains_key(poem::http::header::AUTHORIZATION);
        let method = req.method().to_string();
        let method_label = method_label(req.method());
        let path = req.uri().path().to_string();
        let span = tracing::info_span!(
            "request",
            request_id = %request_id,
            trace_id = %trace.trace_id,
            span_id = %trace.span_id,
            parent_span_id = trace.parent_id.as_deref().unwrap_or(""),
        );
        req.set_data(RequestId(request_id.clone()));
        req.set_data(trace);

        let result = self.inner.call(req).instrument(span.clone()).await;
        let mut resp = match result {
            Ok(resp) => resp.into_response(),
            Err(err) => span.in_scope(|| error_response(&err, &path, &request_id)),
        };
        // The catch-all "/" nest reports an empty pattern for paths nothing matched.
        let route = resp
            .data::<PathPattern>()
            .map(|p| p.0.to_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "unmatched".to_string());
        let status = resp.status().as_u16();
        let elapsed = started.elapsed();
        metrics::histogram!(
            "http_server_request_duration_seconds",
            "method" => method_label,
            "route" => route.clone(),
            "status" => status.to_string(),
        )
        .record(elapsed.as_secs_f64());
        self.stats.record(method_label, &route, status, elapsed);
        super::headers::set_standard(&mut resp, &request_id, self.hsts);
        if !resp
            .headers()
            .contains_key(poem::http::header::CACHE_CONTROL)
        {
            // What a signed-in caller sees (drafts, their account) is never shared, and
            // errors (a 404 for a bad slug included) are never stored.
            let policy = match (authorized, status >= 400) {
                (true, _) => Some("private, no-store"),
                (false, true) => Some("no-store"),
                (false, false) => None,
            };
            if let Some(policy) = policy {
                resp.headers_mut().insert(
                    poem::http::header::CACHE_CONTROL,
                    HeaderValue::from_static(policy),
                );
            }
        }
        span.in_scope(|| {
            tracing::info!(
                target: "levee::access",
                method = %method,
                route = %route,
                status,
                duration_ms = elapsed.as_secs_f64() * 1000.0,
                "request served"
            );
        });
        Ok(resp)
    }
}

/// Converts an error into its problem+json response, carrying the route template along.
pub fn error_response(err: &poem::Error, path: &str, request_id: &str) -> Response {
    let mut problem = problem_for(err);
    problem.instance = Some(path.to_string());
    problem.request_id = Some(request_id.to_string());
    let mut resp = problem.into_response();
    if let Some(pattern) = err.data::<PathPattern>() {
        resp.set_data(pattern.clone());
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_keeps_the_callers_trace() {
        let ctx = TraceContext::from_header(Some(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ));
        assert_eq!(ctx.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(ctx.parent_id.as_deref(), Some("00f067aa0ba902b7"));
        assert!(ctx.sampled);
        assert!(
            ctx.child_header()
                .starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")
        );
        assert_ne!(ctx.span_id, "00f067aa0ba902b7");
    }

    #[test]
    fn an_invalid_traceparent_starts_a_new_trace() {
        for bad in [
            "garbage",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        ] {
            let ctx = TraceContext::from_header(Some(bad));
            assert_eq!(ctx.parent_id, None, "{bad}");
            assert_eq!(ctx.trace_id.len(), 32);
        }
    }

    #[test]
    fn invented_methods_are_labelled_other() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let invented = Method::from_bytes(b"BREW").expect("method");
        assert_eq!(method_label(&invented), "other");
    }

    #[test]
    fn request_ids_must_be_short_visible_ascii() {
        assert!(valid_request_id("abc-123"));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("has space"));
        assert!(!valid_request_id(&"x".repeat(129)));
    }
}

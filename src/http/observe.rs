//! The outermost layer: request ids, W3C trace context, the JSON access log, RED metrics
//! (`http_server_request_duration_seconds`) and standard response headers.

use super::durations::Durations;
use super::trace::TraceContext;

use crate::error::problem_for;
use crate::stats::Recorder;
use poem::PathPattern;
use poem::http::{HeaderName, HeaderValue, Method};
use poem::{Endpoint, IntoResponse, Request, Response, Result};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// Header names made once, at compile time: a `&str` name is parsed on every use.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The request's id: the caller's `X-Request-Id` when it is sane, otherwise generated.
#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

/// A UUIDv4 for a request that brought no id. Ids and trace ids identify, they protect
/// nothing, so a user-space generator (a thread-local wyrand, seeded once) serves them
/// instead of a system call for kernel randomness on every request.
fn new_request_id() -> String {
    uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes())
        .into_uuid()
        .to_string()
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

/// Which requests the access log records (`log.access_sample`, `log.slow_request`).
#[derive(Clone, Copy)]
pub struct AccessLog {
    pub sample: f64,
    pub slow: Duration,
}

impl AccessLog {
    /// Errors, 429s and slow requests always; the rest at the sampling rate.
    fn records(&self, status: u16, elapsed: Duration) -> bool {
        status >= 500
            || status == 429
            || elapsed >= self.slow
            || self.sample >= 1.0
            || fastrand::f64() < self.sample
    }
}

pub struct Observe<E> {
    inner: E,
    hsts: bool,
    stats: Arc<Recorder>,
    access: AccessLog,
    durations: Durations,
}

impl<E> Observe<E> {
    pub fn new(inner: E, hsts: bool, stats: Arc<Recorder>, access: AccessLog) -> Self {
        Self {
            inner,
            hsts,
            stats,
            access,
            durations: Durations::default(),
        }
    }
}

impl<E: Endpoint> Endpoint for Observe<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let started = Instant::now();
        let request_id: Arc<str> = req
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| valid_request_id(v))
            .map_or_else(|| Arc::from(new_request_id()), Arc::from);
        let trace =
            TraceContext::from_header(req.headers().get(TRACEPARENT).and_then(|v| v.to_str().ok()));
        let authorized = req
            .headers()
            .contains_key(poem::http::header::AUTHORIZATION);
        let method = req.method().clone();
        let method_label = method_label(&method);
        // Kept for an error's `instance`; cloning a URI only counts a reference.
        let uri = req.uri().clone();
        let span = tracing::info_span!(
            "request",
            request_id = %request_id,
            trace_id = %trace.trace_hex(),
            span_id = %trace.span_hex(),
            parent_span_id = %trace.parent_hex(),
        );
        req.set_data(RequestId(request_id.clone()));

        let result = self.inner.call(req).instrument(span.clone()).await;
        let mut resp = match result {
            Ok(resp) => resp.into_response(),
            Err(err) => span.in_scope(|| error_response(&err, uri.path(), &request_id)),
        };
        // The catch-all "/" nest reports an empty pattern for paths nothing matched.
        let route: Arc<str> = resp
            .data::<PathPattern>()
            .map(|p| p.0.clone())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| Arc::from("unmatched"));
        let status = resp.status().as_u16();
        let elapsed = started.elapsed();
        self.durations
            .series(method_label, &route, status)
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
        if self.access.records(status, elapsed) {
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
        }
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
    fn generated_request_ids_are_version_4_uuids() {
        let id = uuid::Uuid::parse_str(&new_request_id()).expect("a uuid");
        assert_eq!(id.get_version_num(), 4);
        assert_ne!(new_request_id(), new_request_id());
    }

    #[test]
    fn sampling_never_drops_errors_rejections_or_slow_requests() {
        let none = AccessLog {
            sample: 0.0,
            slow: Duration::from_secs(1),
        };
        let fast = Duration::from_millis(2);
        assert!(!none.records(200, fast) && !none.records(404, fast));
        assert!(none.records(500, fast) && none.records(503, fast));
        assert!(none.records(429, fast));
        assert!(none.records(200, Duration::from_secs(1)));
        let half = AccessLog {
            sample: 0.5,
            ..none
        };
        let kept = (0..10_000).filter(|_| half.records(200, fast)).count();
        assert!((4_000..6_000).contains(&kept), "{kept} of 10000 at 0.5");
        let all = AccessLog {
            sample: 1.0,
            ..none
        };
        assert!((0..1_000).all(|_| all.records(200, fast)));
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

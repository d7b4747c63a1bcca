//! Operational endpoints: liveness, readiness and Prometheus metrics.

use crate::error::{ApiError, Problem};
use crate::state::AppState;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{IntoResponse, Request, Response, handler};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use std::collections::BTreeMap;

#[derive(Tags)]
enum SystemTags {
    /// Liveness and readiness probes.
    System,
}

/// Liveness: the process is up and serving HTTP.
#[derive(Object)]
#[oai(example)]
struct Health {
    /// Always `ok`.
    status: String,
    /// Seconds since the process started.
    uptime_seconds: u64,
    version: String,
}

impl poem_openapi::types::Example for Health {
    fn example() -> Self {
        Health {
            status: "ok".into(),
            uptime_seconds: 42,
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Readiness: every dependency levee needs to serve traffic answered.
#[derive(Object)]
#[oai(example)]
struct Readiness {
    /// `ready`, or `degraded` when a dependency levee serves without is failing.
    status: String,
    /// Each dependency checked, with `ok` or why it failed.
    checks: BTreeMap<String, String>,
    /// The failing dependencies levee serves without (Redis, unless the rate limiter
    /// fails closed): the cache is bypassed and rate limits count per instance.
    degraded: Vec<String>,
}

impl poem_openapi::types::Example for Readiness {
    fn example() -> Self {
        Readiness {
            status: "ready".into(),
            checks: [("database", "ok"), ("migrations", "ok")]
                .into_iter()
                .map(|(name, state)| (name.to_string(), state.to_string()))
                .collect(),
            degraded: Vec::new(),
        }
    }
}

/// The 503 problem of `/ready` (RFC 9457) with each dependency's check as an extension.
#[derive(Object)]
#[oai(example)]
struct NotReady {
    #[oai(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    /// Names the failing dependencies.
    detail: String,
    /// Each dependency checked, with `ok` or why it failed.
    checks: BTreeMap<String, String>,
}

impl NotReady {
    fn new(failing: &[String], checks: BTreeMap<String, String>) -> Self {
        let detail = format!("not ready: {}", failing.join(", "));
        let problem = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "not-ready", detail);
        Self {
            kind: problem.kind,
            title: problem.title,
            status: problem.status,
            detail: problem.detail,
            checks,
        }
    }
}

impl poem_openapi::types::Example for NotReady {
    fn example() -> Self {
        let checks = [("database", "connection refused"), ("migrations", "ok")];
        let checks = checks
            .into_iter()
            .map(|(name, state)| (name.to_string(), state.to_string()))
            .collect();
        NotReady::new(&["database".into()], checks)
    }
}

#[derive(ApiResponse)]
enum ReadyResponse {
    /// Ready for traffic.
    #[oai(status = 200)]
    Ready(Json<Readiness>),
    /// Not ready: shutting down, or a dependency (named in `checks`) is failing. The body
    /// is `application/problem+json`.
    #[oai(status = 503, content_type = "application/problem+json")]
    NotReady(Json<NotReady>, #[oai(header = "Retry-After")] u64),
}

#[derive(Default)]
pub struct SystemApi;

#[OpenApi(tag = "SystemTags::System")]
impl SystemApi {
    /// Liveness probe
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self, state: Data<&AppState>) -> Json<Health> {
        Json(Health {
            status: "ok".into(),
            uptime_seconds: state.uptime().as_secs(),
            version: env!("CARGO_PKG_VERSION").into(),
        })
    }

    /// Readiness probe
    ///
    /// Answers from the last round of the background checker (every
    /// `server.ready_interval`): 200 when the primary database answers, migrations are
    /// current and Redis answers or is only needed for a degraded mode (`degraded`); 503
    /// naming the failing dependency otherwise, and at once after SIGTERM so load
    /// balancers stop sending traffic.
    #[oai(path = "/ready", method = "get", operation_id = "ready")]
    async fn ready(&self, state: Data<&AppState>) -> ReadyResponse {
        let report = state.readiness().latest();
        let mut checks = report.checks.clone();
        let mut failing = report.failing.clone();
        if state.is_shutting_down() {
            checks.insert("lifecycle".into(), "shutting down".into());
            failing.insert(0, "lifecycle".into());
        }
        if failing.is_empty() {
            let status = if report.degraded.is_empty() {
                "ready"
            } else {
                "degraded"
            };
            return ReadyResponse::Ready(Json(Readiness {
                status: status.into(),
                checks,
                degraded: report.degraded.clone(),
            }));
        }
        ReadyResponse::NotReady(Json(NotReady::new(&failing, checks)), 1)
    }
}

/// `/metrics` with the configured scrape token, for any listener that serves it.
pub fn metrics_endpoint(config: &crate::config::Config) -> impl poem::Endpoint + 'static {
    use poem::EndpointExt;
    metrics.data(ScrapeToken::new(&config.metrics))
}

/// The bearer token scrapers must present (`metrics.token`), attached to the `/metrics`
/// route wherever it is served (main listener, separate listener, `levee worker`).
#[derive(Clone)]
struct ScrapeToken(Option<String>);

impl ScrapeToken {
    fn new(config: &crate::config::MetricsConfig) -> Self {
        Self(config.token.clone())
    }
}

/// Compares in constant time, so response timing does not reveal how much of a guess
/// matched. Comparing digests makes the lengths equal and hides the token's length too.
fn same_secret(presented: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    Sha256::digest(presented.as_bytes())
        .ct_eq(&Sha256::digest(expected.as_bytes()))
        .into()
}

/// Prometheus text exposition. When `metrics.token` is set, a matching bearer token is required.
#[handler]
async fn metrics(req: &Request, token: Data<&ScrapeToken>) -> poem::Result<Response> {
    if let Some(token) = &token.0.0 {
        let presented = req
            .headers()
            .get(poem::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !presented.is_some_and(|presented| same_secret(presented, token)) {
            return Err(
                ApiError::Unauthorized("a valid metrics bearer token is required".into()).into(),
            );
        }
    }
    Ok(crate::telemetry::metrics_handle()
        .render()
        .with_content_type("text/plain; version=0.0.4; charset=utf-8")
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn scrape_tokens_match_only_exactly() {
        assert!(same_secret("scrape-me", "scrape-me"));
        for guess in ["", "scrape", "scrape-mf", "scrape-me ", "Scrape-me"] {
            assert!(!same_secret(guess, "scrape-me"), "{guess}");
        }
    }
}

//! The HTTP layer: picks the policies for a request, derives the caller's key for each,
//! answers 429 (with Retry-After) when any of them refuses, and puts the RateLimit header
//! fields of the most restrictive one on every limited response.

use super::body_field::KeyedBody;
use super::{RequestId, error_response};
use crate::config::KeyKind;
use crate::error::ApiError;
use crate::rate_limit::{Decision, Policy, policy_header};
use crate::rest::client_ip::{client_ip, client_key};
use crate::state::AppState;
use poem::http::{HeaderName, HeaderValue};
use poem::{Endpoint, IntoResponse, Request, Response, Result};

pub struct RateLimit<E> {
    inner: E,
    state: AppState,
}

impl<E> RateLimit<E> {
    pub fn new(inner: E, state: AppState) -> Self {
        Self { inner, state }
    }
}

/// What the caller is counted as under `policy`.
async fn key_for(
    policy: &Policy,
    caller: Option<&String>,
    ip: &str,
    req: &mut Request,
    body: &mut KeyedBody,
) -> Result<String> {
    Ok(match (&policy.key, caller) {
        (KeyKind::User, Some(caller)) => caller.clone(),
        (KeyKind::ApiKey, Some(caller)) if caller.starts_with("key:") => caller.clone(),
        (KeyKind::BodyField { field, with_ip }, _) => match body.field(req, field).await? {
            Some(value) if *with_ip => format!("{ip}|{field}={value}"),
            Some(value) => format!("{field}={value}"),
            None => ip.to_string(),
        },
        _ => ip.to_string(),
    })
}

impl<E: Endpoint> Endpoint for RateLimit<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let limiter = self.state.rate_limiter();
        // Unlimited paths skip the caller lookup (a JWT verification) entirely.
        if !limiter.guards(req.uri().path()) {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        let credential = req
            .headers()
            .get(poem::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_string);
        let caller = match &credential {
            Some(c) => {
                self.state
                    .auth()
                    .rate_limit_identity(self.state.db(), c)
                    .await
            }
            None => None,
        };
        let policies =
            limiter.policies_for(req.method().as_str(), req.uri().path(), caller.is_some());
        let ip = client_key(client_ip(&req, &self.state.config().server));
        let mut body = KeyedBody::default();
        // The refusing policy, else the one with the fewest requests left. A refusal stops
        // the checks: later policies keep their quota for requests that get through.
        let mut verdict: Option<(&Policy, Decision)> = None;
        for policy in policies {
            let key = key_for(policy, caller.as_ref(), &ip, &mut req, &mut body).await?;
            let decision = match limiter.check(policy, &key).await {
                Ok(decision) => decision,
                Err(unavailable) => {
                    return Err(ApiError::Unavailable(unavailable.to_string()).into());
                }
            };
            if verdict.is_none_or(|(_, d)| !decision.allowed || decision.remaining < d.remaining) {
                verdict = Some((policy, decision));
            }
            if !decision.allowed {
                break;
            }
        }
        let Some((policy, decision)) = verdict else {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        };
        let path = req.uri().path().to_string();
        let request_id = req
            .data::<RequestId>()
            .map(|r| r.0.to_string())
            .unwrap_or_default();
        // Errors are rendered here (as the outer layer would) so that they carry the
        // RateLimit fields too: a failed login is as limited as a successful one.
        let mut resp = if decision.allowed {
            match self.inner.call(req).await {
                Ok(resp) => resp.into_response(),
                Err(err) => error_response(&err, &path, &request_id),
            }
        } else {
            let rejection = ApiError::TooManyRequests {
                detail: format!(
                    "rate limit \"{}\" exceeded: {} requests per {} s; retry later",
                    policy.name,
                    policy.quota,
                    policy.window.as_secs()
                ),
                retry_after: decision.retry_after_secs(),
            };
            error_response(&rejection.into(), &path, &request_id)
        };
        set_headers(&mut resp, policy, &decision);
        Ok(resp)
    }
}

const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

fn set_headers(resp: &mut Response, policy: &Policy, decision: &Decision) {
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&policy_header(&policy.name, policy.quota, policy.window))
    {
        headers.insert(RATELIMIT_POLICY, v);
    }
    if let Ok(v) = HeaderValue::from_str(&decision.header(&policy.name)) {
        headers.insert(RATELIMIT, v);
    }
}

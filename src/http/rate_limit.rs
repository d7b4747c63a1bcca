//! The HTTP layer: picks the policy for a request, derives the caller's key, answers 429
//! (with Retry-After) past the quota, and puts the RateLimit header fields on every
//! limited response.

use super::{RequestId, error_response};
use crate::config::KeyKind;
use crate::error::ApiError;
use crate::rate_limit::{Decision, Policy, policy_header};
use crate::rest::client_ip::client_ip;
use crate::state::AppState;
use poem::http::HeaderValue;
use poem::{Body, Endpoint, IntoResponse, Request, Response, Result};
use std::net::IpAddr;

pub struct RateLimit<E> {
    inner: E,
    state: AppState,
}

impl<E> RateLimit<E> {
    pub fn new(inner: E, state: AppState) -> Self {
        Self { inner, state }
    }
}

/// IPv6 clients are keyed by their /64: one host usually holds the whole prefix. An
/// IPv4-mapped address is an IPv4 client, keyed alone rather than in `::ffff:0:0/96`'s /64.
fn ip_key(ip: Option<IpAddr>) -> String {
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(v4) => v4.to_string(),
        None => "unknown".into(),
    }
}

/// The lower-cased `email` of a JSON body; the body is put back for the handler.
async fn take_email(req: &mut Request) -> Option<String> {
    let bytes = req.take_body().into_bytes().await.ok()?;
    let email = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| {
            v.get("email")
                .and_then(|e| e.as_str())
                .map(|e| e.trim().to_lowercase())
        });
    req.set_body(Body::from(bytes));
    email
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
        let Some(policy) =
            limiter.policy_for(req.method().as_str(), req.uri().path(), caller.is_some())
        else {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        };
        let ip = ip_key(client_ip(&req, &self.state.config().server));
        let key = match (policy.key, &caller) {
            (KeyKind::User, Some(caller)) => caller.clone(),
            (KeyKind::ApiKey, Some(caller)) if caller.starts_with("key:") => caller.clone(),
            (KeyKind::IpEmail, _) => match take_email(&mut req).await {
                Some(email) => format!("{ip}|{email}"),
                None => ip,
            },
            _ => ip,
        };
        let decision = match limiter.check(policy, &key).await {
            Ok(decision) => decision,
            Err(unavailable) => return Err(ApiError::Unavailable(unavailable.to_string()).into()),
        };
        let mut resp = if decision.allowed {
            self.inner
                .call(req)
                .await
                .map(IntoResponse::into_response)?
        } else {
            let request_id = req
                .data::<RequestId>()
                .map(|r| r.0.clone())
                .unwrap_or_default();
            let rejection = ApiError::TooManyRequests {
                detail: format!(
                    "rate limit \"{}\" exceeded: {} requests per {} s; retry later",
                    policy.name,
                    policy.quota,
                    policy.window.as_secs()
                ),
                retry_after: decision.retry_after_secs(),
            };
            error_response(&rejection.into(), req.uri().path(), &request_id)
        };
        set_headers(&mut resp, policy, &decision);
        Ok(resp)
    }
}

fn set_headers(resp: &mut Response, policy: &Policy, decision: &Decision) {
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&policy_header(&policy.name, policy.quota, policy.window))
    {
        headers.insert("ratelimit-policy", v);
    }
    if let Ok(v) = HeaderValue::from_str(&decision.header(&policy.name)) {
        headers.insert("ratelimit", v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        assert_eq!(ip_key(Some(a)), ip_key(Some(b)));
        assert_eq!(ip_key(Some(a)), "2001:db8:1:2::/64");
        assert_eq!(ip_key("192.0.2.7".parse().ok()), "192.0.2.7");
        assert_eq!(ip_key("::ffff:192.0.2.7".parse().ok()), "192.0.2.7");
    }
}

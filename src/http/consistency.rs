//! Read-your-writes over HTTP. A successful write answers with a consistency token — the
//! time of the write, as the `Levee-Consistency-Token` header and the `levee_consistency`
//! cookie — and any request presenting a token younger than `database.read_your_writes`
//! reads from the primary (and around the cache), on whichever instance of the fleet
//! serves it (`database.read_your_writes = "0s"` turns tokens off). The same layer gives
//! each request the read-routing context `Db::read()` uses. Only installed when replicas
//! are configured.

use crate::db::consistency::route_reads;
use poem::http::{HeaderValue, Method, header};
use poem::{Endpoint, IntoResponse, Request, Response, Result};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const TOKEN_HEADER: &str = "levee-consistency-token";
const COOKIE: &str = "levee_consistency";
/// Tokens from a clock this far ahead are still honoured (clock skew in a fleet).
const SKEW: Duration = Duration::from_secs(5);

pub struct ReadYourWrites<E> {
    inner: E,
    window: Duration,
    secure: bool,
}

impl<E> ReadYourWrites<E> {
    pub fn new(inner: E, window: Duration, secure: bool) -> Self {
        Self {
            inner,
            window,
            secure,
        }
    }
}

impl<E: Endpoint> Endpoint for ReadYourWrites<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let now = now_millis();
        let recent = presented_token(&req).is_some_and(|written| {
            written <= now + SKEW.as_millis()
                && now.saturating_sub(written) < self.window.as_millis()
        });
        let mut resp = route_reads(recent || writes, self.inner.call(req))
            .await?
            .into_response();
        let succeeded = resp.status().is_success() || resp.status().is_redirection();
        if writes && succeeded && !self.window.is_zero() {
            let token = now_millis().to_string();
            let cookie = format!(
                "{COOKIE}={token}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax{}",
                self.window.as_secs().max(1),
                if self.secure { "; Secure" } else { "" }
            );
            let headers = resp.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&token) {
                headers.insert(TOKEN_HEADER, value);
            }
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                headers.append(header::SET_COOKIE, value);
            }
        }
        Ok(resp)
    }
}

/// The token from the header, else from the cookie.
fn presented_token(req: &Request) -> Option<u128> {
    let from_header = req
        .headers()
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    from_header.or_else(|| {
        req.headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .and_then(|(_, value)| value.parse().ok())
    })
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

//! Read-your-writes over HTTP. A successful write answers with a consistency token — the
//! time of the write and its HMAC, as the `Levee-Consistency-Token` header and the
//! `levee_consistency` cookie — and any request presenting a token younger than `database.read_your_writes`
//! reads from the primary (and around the cache), on whichever instance of the fleet
//! serves it (`database.read_your_writes = "0s"` turns tokens off). The same layer gives
//! each request the read-routing context `Db::read()` uses. Only installed when replicas
//! are configured. Tokens are signed with a key derived from the JWT signing keys (so
//! the fleet agrees on it) and one whose MAC does not verify counts as absent: otherwise
//! anyone could force primary reads and skip the cache.

use crate::db::consistency::{ReadRouting, route_reads};
use crate::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use poem::http::{HeaderValue, Method, header};
use poem::{Endpoint, IntoResponse, Request, Response, Result};
use sha2::Sha256;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const TOKEN_HEADER: &str = "levee-consistency-token";
const COOKIE: &str = "levee_consistency";
/// Tokens from a clock this far ahead are still honoured (clock skew in a fleet).
const SKEW: Duration = Duration::from_secs(5);

pub struct ReadYourWrites<E> {
    inner: E,
    state: AppState,
    window: Duration,
    secure: bool,
}

impl<E> ReadYourWrites<E> {
    pub fn new(inner: E, state: AppState, window: Duration, secure: bool) -> Self {
        Self {
            inner,
            state,
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
        let keys = self.state.auth().consistency_keys();
        let presented = presented_token(&req).and_then(|token| verify(&keys, token));
        let recent = presented.filter(|written| fresh(*written, now, self.window));
        let routing = match recent {
            _ if writes => ReadRouting::Primary,
            Some(written) => ReadRouting::OwnWritesAt(i64::try_from(written).unwrap_or(i64::MAX)),
            None => ReadRouting::Anywhere,
        };
        let mut resp = route_reads(routing, self.inner.call(req))
            .await?
            .into_response();
        let succeeded = resp.status().is_success() || resp.status().is_redirection();
        // Without a key (none stored) no token is issued rather than an unsigned one.
        let newest = keys.first().filter(|_| !self.window.is_zero());
        if let Some(key) = newest.filter(|_| writes && succeeded) {
            let token = sign(key, now_millis());
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

/// Whether a token written at `written` still holds at `now` (tolerating some skew).
fn fresh(written: u128, now: u128, window: Duration) -> bool {
    written <= now + SKEW.as_millis() && now.saturating_sub(written) < window.as_millis()
}

/// `<unix millis>.<base64url HMAC-SHA256 of the millis>`.
fn sign(key: &[u8; 32], millis: u128) -> String {
    let stamp = millis.to_string();
    let mac = URL_SAFE_NO_PAD.encode(mac(key, &stamp).finalize().into_bytes());
    format!("{stamp}.{mac}")
}

/// The time in a token whose MAC verifies under one of `keys` (compared in constant time).
fn verify(keys: &[[u8; 32]], token: &str) -> Option<u128> {
    let (stamp, tag) = token.split_once('.')?;
    let millis = stamp.parse().ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    keys.iter()
        .any(|key| mac(key, stamp).verify_slice(&tag).is_ok())
        .then_some(millis)
}

fn mac(key: &[u8; 32], stamp: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(stamp.as_bytes());
    mac
}

/// The token from the header, else from the cookie.
fn presented_token(req: &Request) -> Option<&str> {
    let from_header = req
        .headers()
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    from_header.or_else(|| crate::rest::cookies::cookie(req, COOKIE))
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const OLD_KEY: [u8; 32] = [9; 32];
    const WINDOW: Duration = Duration::from_secs(5);

    #[test]
    fn a_signed_token_verifies_under_any_current_key() {
        let token = sign(&KEY, 1_700_000_000_123);
        assert_eq!(verify(&[KEY], &token), Some(1_700_000_000_123));
        assert_eq!(verify(&[OLD_KEY, KEY], &token), Some(1_700_000_000_123));
    }

    #[test]
    fn forged_and_tampered_tokens_are_refused() {
        let token = sign(&KEY, 1_700_000_000_123);
        let (_, tag) = token.split_once('.').expect("signed");
        for forged in [
            "1700000000123".to_string(),
            "1700000000123.".to_string(),
            format!("1700000000124.{tag}"),
            format!("{token}A"),
            format!("x.{tag}"),
        ] {
            assert_eq!(verify(&[KEY], &forged), None, "{forged}");
        }
        assert_eq!(verify(&[OLD_KEY], &token), None, "another key's token");
        assert_eq!(verify(&[], &token), None);
    }

    #[test]
    fn tokens_hold_for_the_window_only() {
        let now = 1_700_000_000_000;
        assert!(fresh(now - 4_999, now, WINDOW));
        assert!(!fresh(now - 5_000, now, WINDOW), "expired");
        assert!(fresh(now + 5_000, now, WINDOW), "clock skew");
        assert!(!fresh(now + 5_001, now, WINDOW), "from the future");
    }
}

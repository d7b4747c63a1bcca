//! CSRF tokens. A signed-in form carries the HMAC of its session's id keyed with the
//! session's own secret, so a token is useless for any other session and nothing extra is
//! stored. The sign-in form, before any session exists, uses a double-submit cookie: a
//! random value in a `SameSite=Strict` cookie that the form must repeat.

use super::entity::admin_session::Model as Session;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

fn mac(session: &Session) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(session.csrf_secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(session.id.as_bytes());
    mac
}

/// The token every state-changing form of `session` carries.
pub fn token(session: &Session) -> String {
    URL_SAFE_NO_PAD.encode(mac(session).finalize().into_bytes())
}

/// Whether `presented` is `session`'s token (compared in constant time).
pub fn verify(session: &Session, presented: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(presented)
        .is_ok_and(|bytes| mac(session).verify_slice(&bytes).is_ok())
}

/// Whether the sign-in form repeated its cookie's value (compared in constant time).
pub fn verify_login(cookie: Option<&str>, presented: &str) -> bool {
    cookie.is_some_and(|cookie| {
        !cookie.is_empty() && bool::from(cookie.as_bytes().ct_eq(presented.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ids::UserId;
    use uuid::Uuid;

    fn session(secret: &str) -> Session {
        let now = chrono::Utc::now();
        Session {
            id: Uuid::now_v7(),
            token_hash: String::new(),
            user_id: UserId(Uuid::nil()),
            csrf_secret: secret.into(),
            created_at: now,
            last_seen_at: now,
            expires_at: now,
        }
    }

    #[test]
    fn a_token_verifies_for_its_session_only() {
        let (mine, other) = (session("k1"), session("k2"));
        let token = token(&mine);
        assert!(verify(&mine, &token));
        assert!(!verify(&other, &token));
        assert!(!verify(&mine, ""));
        assert!(!verify(&mine, &token[1..]));
    }

    #[test]
    fn the_login_form_must_repeat_a_non_empty_cookie() {
        assert!(verify_login(Some("abc"), "abc"));
        assert!(!verify_login(Some("abc"), "abd"));
        assert!(!verify_login(None, "abc"));
        assert!(!verify_login(Some(""), ""));
    }
}

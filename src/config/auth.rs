//! The `[auth]` section: token lifetimes, password hashing cost, login throttling.

use super::{ConfigError, Duration, IntIn};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Lifetime of an access token (JWT).
    pub access_token_ttl: Duration,
    /// Lifetime of a refresh token; each refresh issues a new one.
    pub refresh_token_ttl: Duration,
    /// Window in which the immediately previous refresh token may be presented again (two
    /// tabs refreshing at once) instead of counting as theft. At most 30 s.
    pub refresh_grace: Duration,
    /// `iss` and `aud` of the access tokens levee issues and accepts.
    pub issuer: String,
    pub audience: String,
    /// Shortest password accepted.
    pub min_password_length: IntIn<8, 128>,
    /// Argon2id cost. The defaults are OWASP's recommendation (19 MiB, 2 passes).
    pub password_hash: PasswordHashConfig,
    /// Hashes computed at once; each takes `memory_kib` of memory.
    pub max_concurrent_hashes: IntIn<1, 256>,
    /// Failed logins for one account within `login_lockout` before it is locked (429).
    pub max_failed_logins: IntIn<1, 1000>,
    /// Failed logins from one client address (IPv6: one /64) within `login_lockout` before
    /// it is locked (429). In Redis when `redis.url` is set, so the fleet counts together.
    pub max_failed_logins_per_ip: IntIn<1, 100_000>,
    /// How long failures are remembered and a lock lasts.
    pub login_lockout: Duration,
    /// How long a password-reset link works (1 minute to 24 hours).
    pub reset_token_ttl: Duration,
    /// How long an email-verification link works (1 minute to 30 days).
    pub verify_token_ttl: Duration,
    /// Customers must verify their email address before they can place orders (403
    /// `urn:levee:problem:email-unverified` until then).
    pub require_verified_email: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_token_ttl: Duration::secs(15 * 60),
            refresh_token_ttl: Duration::secs(30 * 24 * 3600),
            refresh_grace: Duration::secs(10),
            issuer: "levee".into(),
            audience: "levee".into(),
            min_password_length: IntIn::new(10),
            password_hash: PasswordHashConfig::default(),
            max_concurrent_hashes: IntIn::new(4),
            max_failed_logins: IntIn::new(5),
            max_failed_logins_per_ip: IntIn::new(50),
            login_lockout: Duration::secs(15 * 60),
            reset_token_ttl: Duration::secs(30 * 60),
            verify_token_ttl: Duration::secs(48 * 3600),
            require_verified_email: false,
        }
    }
}

impl AuthConfig {
    /// Bounds of the account-token lifetimes: long enough to read the email, short enough
    /// that a link in an old mailbox is worthless.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        const MINUTE: u64 = 60;
        for (key, ttl, max, max_text) in [
            (
                "auth.reset_token_ttl",
                self.reset_token_ttl,
                24 * 3600,
                "24h",
            ),
            (
                "auth.verify_token_ttl",
                self.verify_token_ttl,
                30 * 24 * 3600,
                "30d",
            ),
        ] {
            let secs = ttl.get().as_secs();
            if !(MINUTE..=max).contains(&secs) {
                return Err(ConfigError::key(
                    key,
                    format!("expected a duration from \"1m\" to \"{max_text}\""),
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordHashConfig {
    pub memory_kib: IntIn<8, 4_194_304>,
    pub iterations: IntIn<1, 100>,
    pub parallelism: IntIn<1, 64>,
}

impl Default for PasswordHashConfig {
    fn default() -> Self {
        Self {
            memory_kib: IntIn::new(19_456),
            iterations: IntIn::new(2),
            parallelism: IntIn::new(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::load::error_of;

    #[test]
    fn token_lifetimes_are_bounded_and_named() {
        assert_eq!(
            error_of("[auth]\nreset_token_ttl = \"10s\""),
            "auth.reset_token_ttl: expected a duration from \"1m\" to \"24h\""
        );
        assert_eq!(
            error_of("[auth]\nverify_token_ttl = \"60d\""),
            "auth.verify_token_ttl: expected a duration from \"1m\" to \"30d\""
        );
    }
}

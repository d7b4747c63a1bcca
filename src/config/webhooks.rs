//! The `[webhooks]` section: how deliveries to registered endpoints are made — the
//! deadline, the retry schedule, which hosts they may reach (the SSRF guard), when a
//! failing endpoint is disabled, and how long an old secret still signs after a rotation.

use super::{ConfigError, Duration, IntIn};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Longest time one delivery may take, connecting and reading the answer included.
    pub timeout: Duration,
    /// The wait before each retry of a failed delivery; once every wait is used up the
    /// delivery is dead (1–50 entries).
    pub retry_schedule: Vec<Duration>,
    /// Deliver to private, loopback and link-local addresses too (checked after DNS
    /// resolution). Off: an endpoint inside the network cannot be reached by a webhook.
    pub allow_private: bool,
    /// When not empty, the only hosts (names or IP literals, as written in endpoint URLs)
    /// deliveries may reach; endpoints elsewhere are refused at registration.
    pub allowed_hosts: Vec<String>,
    /// An endpoint whose deliveries have failed continuously for this long is disabled,
    /// and every active admin is told by email.
    pub disable_after: Duration,
    /// After a secret rotation the previous secret still signs, beside the new one, for
    /// this long.
    pub rotation_overlap: Duration,
    /// Most endpoints that may be registered.
    pub max_endpoints: IntIn<1, 1000>,
    /// Events, with their deliveries and attempts, are deleted this long after they were
    /// emitted (by the `prune-webhooks` cron entry).
    pub retention: Duration,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        let minutes = |m: u64| Duration::secs(m * 60);
        Self {
            timeout: Duration::secs(10),
            // About a day in all: 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h.
            retry_schedule: vec![
                Duration::secs(30),
                minutes(2),
                minutes(10),
                minutes(30),
                minutes(60),
                minutes(180),
                minutes(360),
                minutes(720),
            ],
            allow_private: false,
            allowed_hosts: Vec::new(),
            disable_after: Duration::secs(3 * 24 * 3600),
            rotation_overlap: Duration::secs(24 * 3600),
            max_endpoints: IntIn::new(50),
            retention: Duration::secs(30 * 24 * 3600),
        }
    }
}

impl WebhooksConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let timeout = self.timeout.get();
        if timeout.is_zero() || timeout > std::time::Duration::from_secs(60) {
            return Err(ConfigError::key(
                "webhooks.timeout",
                "expected a duration from 1ms to 60s",
            ));
        }
        if self.retry_schedule.is_empty() || self.retry_schedule.len() > 50 {
            return Err(ConfigError::key(
                "webhooks.retry_schedule",
                format!(
                    "expected 1 to 50 durations like [\"30s\", \"2m\"], got {}",
                    self.retry_schedule.len()
                ),
            ));
        }
        for (i, host) in self.allowed_hosts.iter().enumerate() {
            let parsed = url::Url::parse(&format!("http://{host}/"));
            if !parsed.is_ok_and(|u| u.host_str() == Some(host.as_str())) {
                return Err(ConfigError::key(
                    format!("webhooks.allowed_hosts[{i}]"),
                    format!(
                        "expected a lowercase host name or IP address like \"hooks.example.com\", got {host:?}"
                    ),
                ));
            }
        }
        for (key, value) in [
            ("disable_after", self.disable_after),
            ("rotation_overlap", self.rotation_overlap),
            ("retention", self.retention),
        ] {
            if value.get().is_zero() {
                return Err(ConfigError::key(
                    format!("webhooks.{key}"),
                    "expected a duration above zero",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::load::{error_of, from_toml_str};

    #[test]
    fn errors_name_the_key() {
        let err = error_of("[webhooks]\nretry_schedule = []");
        assert!(err.starts_with("webhooks.retry_schedule:"), "{err}");
        let err = error_of("[webhooks]\ntimeout = \"5m\"");
        assert!(err.starts_with("webhooks.timeout:"), "{err}");
        let err = error_of("[webhooks]\nallowed_hosts = [\"a b\"]");
        assert!(err.starts_with("webhooks.allowed_hosts[0]:"), "{err}");
        let ok = "[webhooks]\nallowed_hosts = [\"127.0.0.1\", \"hooks.example.com\"]";
        assert!(from_toml_str(ok, std::iter::empty()).is_ok());
    }
}

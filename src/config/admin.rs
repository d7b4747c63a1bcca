//! The `[admin]` section: the operations console's sessions, refresh rate and the fleet
//! statistics every process publishes for it.

use super::{ConfigError, Duration};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// A console session ends after this long without a request.
    pub session_idle_timeout: Duration,
    /// A console session ends this long after sign-in, however active.
    pub session_lifetime: Duration,
    /// A session's last activity is written at most this often, so reading pages does not
    /// write to the database on every request. Shorter than `session_idle_timeout`.
    pub session_touch_interval: Duration,
    /// How often the console's live panels reload in the browser.
    pub refresh_interval: Duration,
    /// How often every process (`serve` and `worker`) publishes its statistics snapshot to
    /// the shared store (Redis when configured, else the database). An instance whose
    /// snapshot is older than three intervals is shown as stale.
    pub publish_interval: Duration,
    /// How long a published snapshot is kept: a stopped instance stays listed (as stale)
    /// until then. Longer than three `publish_interval`s.
    pub fleet_retention: Duration,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            session_idle_timeout: Duration::secs(30 * 60),
            session_lifetime: Duration::secs(12 * 3600),
            session_touch_interval: Duration::secs(60),
            refresh_interval: Duration::secs(5),
            publish_interval: Duration::secs(5),
            fleet_retention: Duration::secs(10 * 60),
        }
    }
}

impl AdminConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let (idle, lifetime) = (self.session_idle_timeout.get(), self.session_lifetime.get());
        if idle.is_zero() {
            return Err(ConfigError::key(
                "admin.session_idle_timeout",
                "expected a duration above zero",
            ));
        }
        if lifetime < idle {
            return Err(ConfigError::key(
                "admin.session_lifetime",
                "expected a duration at least admin.session_idle_timeout",
            ));
        }
        if self.session_touch_interval.get() >= idle {
            return Err(ConfigError::key(
                "admin.session_touch_interval",
                "expected a duration shorter than admin.session_idle_timeout",
            ));
        }
        if self.refresh_interval.get() < std::time::Duration::from_secs(1) {
            return Err(ConfigError::key(
                "admin.refresh_interval",
                "expected a duration of at least \"1s\"",
            ));
        }
        let publish = self.publish_interval.get();
        if publish < std::time::Duration::from_secs(1) {
            return Err(ConfigError::key(
                "admin.publish_interval",
                "expected a duration of at least \"1s\"",
            ));
        }
        if self.fleet_retention.get() <= publish * 3 {
            return Err(ConfigError::key(
                "admin.fleet_retention",
                "expected a duration longer than three admin.publish_interval",
            ));
        }
        Ok(())
    }

    /// A snapshot older than this marks its instance stale: three missed publishes.
    pub fn stale_after(&self) -> std::time::Duration {
        self.publish_interval.get() * 3
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load::error_of;

    #[test]
    fn session_timeouts_must_nest() {
        let err = error_of("[admin]\nsession_idle_timeout = \"2h\"\nsession_lifetime = \"1h\"");
        assert!(err.starts_with("admin.session_lifetime: expected"), "{err}");
        let err =
            error_of("[admin]\nsession_idle_timeout = \"1m\"\nsession_touch_interval = \"1m\"");
        assert!(
            err.starts_with("admin.session_touch_interval: expected"),
            "{err}"
        );
        let err = error_of("[admin]\nsession_idle_timeout = \"0s\"");
        assert!(
            err.starts_with("admin.session_idle_timeout: expected"),
            "{err}"
        );
        let err = error_of("[admin]\nrefresh_interval = \"100ms\"");
        assert!(err.starts_with("admin.refresh_interval: expected"), "{err}");
        let err = error_of("[admin]\npublish_interval = \"500ms\"");
        assert!(err.starts_with("admin.publish_interval: expected"), "{err}");
        let err = error_of("[admin]\npublish_interval = \"1m\"\nfleet_retention = \"3m\"");
        assert!(err.starts_with("admin.fleet_retention: expected"), "{err}");
    }
}

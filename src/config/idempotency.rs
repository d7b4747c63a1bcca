//! The `[idempotency]` section: how long `Idempotency-Key`s are remembered, and how long a
//! request may hold its key before another may take it over.

use super::{ConfigError, Duration};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdempotencyConfig {
    /// A key and its stored response are kept this long after the first request; a retry
    /// after that runs as a new request. Expired keys are deleted by the `idempotency.prune`
    /// job (cron entry `prune-idempotency-keys`).
    pub ttl: Duration,
    /// A request holds its key this long while it is processed; a duplicate meanwhile gets
    /// 409. A key held by a process that died is free again after it.
    pub lease: Duration,
}

impl Default for IdempotencyConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::secs(24 * 3600),
            lease: Duration::secs(60),
        }
    }
}

impl IdempotencyConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.lease.get() < std::time::Duration::from_secs(1) {
            return Err(ConfigError::key(
                "idempotency.lease",
                "expected a duration of at least \"1s\"",
            ));
        }
        // A key must outlive its lease, or a request still running could lose it to pruning.
        if self.ttl.get() <= self.lease.get() {
            return Err(ConfigError::key(
                "idempotency.ttl",
                "expected a duration longer than idempotency.lease",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load::error_of;

    #[test]
    fn the_ttl_must_outlive_the_lease() {
        let err = error_of("[idempotency]\nttl = \"30s\"\nlease = \"1m\"");
        assert!(err.starts_with("idempotency.ttl: expected"), "{err}");
        let err = error_of("[idempotency]\nlease = \"100ms\"");
        assert!(err.starts_with("idempotency.lease: expected"), "{err}");
    }
}

//! The `[resilience]` section: how every call to an outside provider is guarded — its
//! circuit breaker (a count-based sliding window, resilience4j's model) and its bulkhead.
//! `[resilience.default]` applies to every provider; `[resilience.payment]` and
//! `[resilience.shipping]` override any of its keys for one. The per-call timeout is the provider's own `providers.<name>.timeout`; a call
//! that reaches it is a failed (slow) call.

use super::{ConfigError, Duration, IntIn};
use serde::{Deserialize, Serialize};

/// The guards of one dependency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardConfig {
    /// Outcomes the breaker remembers: the last `window` calls.
    pub window: IntIn<1, 1000>,
    /// Calls the window must hold before their failure rate may open the breaker.
    pub minimum_calls: IntIn<1, 1000>,
    /// Share of failed or timed-out calls in the window that opens the breaker, (0, 1].
    pub failure_rate: f64,
    /// How long an open breaker rejects calls (the saga retries them later).
    pub open_for: Duration,
    /// Probes let through after `open_for`; their outcomes close or reopen the breaker.
    pub half_open_calls: IntIn<1, 100>,
    /// Calls in flight to the provider at most (the bulkhead)...
    pub max_concurrent: IntIn<1, 10_000>,
    /// ...and how long a call waits for a free slot before it is turned away.
    pub max_wait: Duration,
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            window: IntIn::new(20),
            minimum_calls: IntIn::new(10),
            failure_rate: 0.5,
            open_for: Duration::secs(30),
            half_open_calls: IntIn::new(3),
            max_concurrent: IntIn::new(25),
            max_wait: Duration::millis(100),
        }
    }
}

/// A provider's overrides: each key absent here takes the `[resilience.default]` value.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardOverrides {
    pub window: Option<IntIn<1, 1000>>,
    pub minimum_calls: Option<IntIn<1, 1000>>,
    pub failure_rate: Option<f64>,
    pub open_for: Option<Duration>,
    pub half_open_calls: Option<IntIn<1, 100>>,
    pub max_concurrent: Option<IntIn<1, 10_000>>,
    pub max_wait: Option<Duration>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResilienceConfig {
    pub default: GuardConfig,
    pub payment: GuardOverrides,
    pub shipping: GuardOverrides,
}

impl GuardOverrides {
    fn over(&self, d: &GuardConfig) -> GuardConfig {
        GuardConfig {
            window: self.window.unwrap_or(d.window),
            minimum_calls: self.minimum_calls.unwrap_or(d.minimum_calls),
            failure_rate: self.failure_rate.unwrap_or(d.failure_rate),
            open_for: self.open_for.unwrap_or(d.open_for),
            half_open_calls: self.half_open_calls.unwrap_or(d.half_open_calls),
            max_concurrent: self.max_concurrent.unwrap_or(d.max_concurrent),
            max_wait: self.max_wait.unwrap_or(d.max_wait),
        }
    }
}

impl ResilienceConfig {
    /// The guards of the payment provider.
    pub fn payment(&self) -> GuardConfig {
        self.payment.over(&self.default)
    }

    /// The guards of the shipping provider.
    pub fn shipping(&self) -> GuardConfig {
        self.shipping.over(&self.default)
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (section, guard) in [
            ("resilience.default", self.default),
            ("resilience.payment", self.payment()),
            ("resilience.shipping", self.shipping()),
        ] {
            guard.validate(section)?;
        }
        Ok(())
    }
}

impl GuardConfig {
    fn validate(&self, section: &str) -> Result<(), ConfigError> {
        if !(self.failure_rate > 0.0 && self.failure_rate <= 1.0) {
            return Err(ConfigError::key(
                format!("{section}.failure_rate"),
                format!(
                    "expected a share above 0.0 and at most 1.0, got {}",
                    self.failure_rate
                ),
            ));
        }
        if self.minimum_calls.get() > self.window.get() {
            return Err(ConfigError::key(
                format!("{section}.minimum_calls"),
                format!(
                    "expected at most the window ({}), got {}",
                    self.window.get(),
                    self.minimum_calls.get()
                ),
            ));
        }
        // A shorter cool-down would probe a dead provider almost without pause.
        if self.open_for.get() < std::time::Duration::from_millis(100) {
            return Err(ConfigError::key(
                format!("{section}.open_for"),
                "expected a duration of at least \"100ms\"",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::load::{error_of, from_toml_str};

    #[test]
    fn a_provider_overrides_only_the_keys_it_names() {
        let toml = "[resilience.default]\nwindow = 40\nminimum_calls = 20\n[resilience.payment]\nopen_for = \"5s\"";
        let config = from_toml_str(toml, std::iter::empty()).expect("valid");
        let payment = config.resilience.payment();
        assert_eq!(payment.window.get(), 40, "from [resilience.default]");
        assert_eq!(payment.open_for.get(), std::time::Duration::from_secs(5));
        let shipping = config.resilience.shipping();
        assert_eq!(shipping.open_for.get(), std::time::Duration::from_secs(30));
        assert_eq!(shipping.half_open_calls.get(), 3, "the built-in default");
    }

    #[test]
    fn bad_guards_name_their_key() {
        let err = error_of("[resilience.shipping]\nfailure_rate = 0.0");
        assert!(
            err.starts_with("resilience.shipping.failure_rate:"),
            "{err}"
        );
        let err = error_of("[resilience.default]\nwindow = 5");
        assert!(
            err.starts_with("resilience.default.minimum_calls: expected at most the window (5)"),
            "{err}"
        );
        let err = error_of("[resilience.payment]\nbulkhead = 3");
        assert!(err.contains("bulkhead"), "{err}");
    }
}

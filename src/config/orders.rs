//! The `[orders]` section (bounds of a basket, how long a saga may try) and the
//! `[providers.payment]` / `[providers.shipping]` sections: which implementation serves
//! each outside provider, and how it behaves.

use super::{ConfigError, Duration, IntIn};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrdersConfig {
    /// Most units of one SKU on one order line.
    pub max_quantity: IntIn<1, 1_000_000>,
    /// How long after it is placed an order's saga may keep retrying a provider that is
    /// unavailable; past it the order fails and is compensated.
    pub deadline: Duration,
}

impl Default for OrdersConfig {
    fn default() -> Self {
        Self {
            max_quantity: IntIn::new(100),
            deadline: Duration::secs(15 * 60),
        }
    }
}

/// The outside providers orders use.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProvidersConfig {
    pub payment: ProviderConfig,
    pub shipping: ProviderConfig,
}

/// Which implementation serves a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Built in: answers after a random latency, declining `failure_rate` of the calls.
    Simulated,
    /// JSON over HTTP to `url` (a real gateway or a test double).
    Http,
}

/// One provider (`[providers.payment]`, `[providers.shipping]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProviderConfig {
    /// `simulated` (built in, the default) or `http`.
    pub kind: ProviderKind,
    /// `http` only: the provider's base URL (`https://pay.example/v1`).
    pub url: Option<String>,
    /// Longest time one call may take; a call that reaches it counts as failed against
    /// the provider's circuit breaker (`[resilience]`).
    pub timeout: Duration,
    /// `simulated` only: each call takes a uniformly random time between these two.
    pub latency_min: Duration,
    pub latency_max: Duration,
    /// `simulated` only: the share of calls declined, 0.0–1.0. The decision is a function
    /// of the call's idempotency key, so a retried call gets the same answer.
    pub failure_rate: f64,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            kind: ProviderKind::Simulated,
            url: None,
            timeout: Duration::secs(5),
            latency_min: Duration::millis(1),
            latency_max: Duration::millis(5),
            failure_rate: 0.0,
        }
    }
}

impl ProvidersConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (name, provider) in [("payment", &self.payment), ("shipping", &self.shipping)] {
            provider.validate(&format!("providers.{name}"))?;
        }
        Ok(())
    }
}

impl ProviderConfig {
    fn validate(&self, section: &str) -> Result<(), ConfigError> {
        if !(0.0..=1.0).contains(&self.failure_rate) {
            return Err(ConfigError::key(
                format!("{section}.failure_rate"),
                format!(
                    "expected a number from 0.0 to 1.0, got {}",
                    self.failure_rate
                ),
            ));
        }
        if self.latency_min.get() > self.latency_max.get() {
            return Err(ConfigError::key(
                format!("{section}.latency_max"),
                "expected a duration of at least latency_min",
            ));
        }
        let url_ok = self.url.as_deref().is_some_and(|u| {
            url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        });
        if self.kind == ProviderKind::Http && !url_ok {
            return Err(ConfigError::key(
                format!("{section}.url"),
                format!(
                    "kind = \"http\" needs an http(s) URL like \"https://pay.example/v1\", got {}",
                    self.url
                        .as_deref()
                        .map_or("none".into(), |u| format!("{:?}", super::redact_url(u)))
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::load::{error_of, from_toml_str};

    #[test]
    fn an_http_provider_needs_a_url() {
        let err = error_of("[providers.payment]\nkind = \"http\"");
        assert!(
            err.starts_with("providers.payment.url: kind = \"http\""),
            "{err}"
        );
        let ok = "[providers.shipping]\nkind = \"http\"\nurl = \"http://127.0.0.1:9/\"";
        assert!(from_toml_str(ok, std::iter::empty()).is_ok());
    }

    #[test]
    fn simulated_failure_rates_are_shares() {
        let err = error_of("[providers.payment]\nfailure_rate = 1.5");
        assert!(err.starts_with("providers.payment.failure_rate:"), "{err}");
        let err = error_of("[orders]\nmax_quantity = 0");
        assert!(err.starts_with("orders.max_quantity"), "{err}");
    }
}

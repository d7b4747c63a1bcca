//! The built-in provider: it answers after a random latency and declines a configured
//! share of calls. Whether a call is declined is a function of its idempotency key, as a
//! real provider replays its first answer to a repeated key.

use super::{Call, ProviderError, Receipt};
use crate::config::ProviderConfig;
use sha2::{Digest, Sha256};
use std::time::Duration;

pub struct Simulated {
    latency: (Duration, Duration),
    failure_rate: f64,
    name: &'static str,
}

impl Simulated {
    pub fn new(config: &ProviderConfig, name: &'static str) -> Self {
        Self {
            latency: (config.latency_min.get(), config.latency_max.get()),
            failure_rate: config.failure_rate,
            name,
        }
    }

    pub async fn call(&self, path: &str, call: &Call) -> Result<Receipt, ProviderError> {
        let (min, max) = self.latency;
        let spread = max.saturating_sub(min).as_micros() as u64;
        let jitter = getrandom::u64().unwrap_or(0) % spread.saturating_add(1);
        tokio::time::sleep(min + Duration::from_micros(jitter)).await;
        // Compensations (refunds, cancellations) always succeed: one that can be declined
        // would leave money taken or goods shipped for an order that failed.
        let compensation = matches!(path, "refunds" | "cancellations");
        if !compensation && share_of(&call.key) < self.failure_rate {
            return Err(ProviderError::Declined(format!(
                "simulated {} failure",
                self.name
            )));
        }
        Ok(Receipt {
            reference: format!("sim-{}-{}", self.name, &hex(&call.key)[..16]),
        })
    }
}

/// A number in `[0, 1)` fixed by `key`.
fn share_of(key: &str) -> f64 {
    let digest = Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

fn hex(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declined_share_follows_the_rate_and_each_key_keeps_its_answer() {
        let declined = (0..10_000)
            .filter(|i| share_of(&format!("{i}:charge")) < 0.3)
            .count();
        assert!((2_700..3_300).contains(&declined), "{declined}");
        assert_eq!(share_of("a:charge"), share_of("a:charge"));
    }
}

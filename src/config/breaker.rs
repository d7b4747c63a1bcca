//! A `breaker` section (`[database.breaker]`): when a circuit breaker in front of a
//! dependency opens, and for how long.

use super::{Duration, IntIn};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerConfig {
    /// Consecutive connection failures (refused, lost, timed out — not query errors) that
    /// open the breaker; while it is open, calls fail at once with 503 + `Retry-After`.
    pub failure_threshold: IntIn<1, 1000>,
    /// How long an open breaker rejects calls before it lets one probe through.
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: IntIn::new(5),
            open_for: Duration::secs(5),
        }
    }
}

//! The in-process backend: governor's keyed GCRA, one limiter per policy.

use super::Decision;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

type Keyed =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

pub struct LocalLimiter {
    limiter: Keyed,
    clock: DefaultClock,
    emission: Duration,
}

impl LocalLimiter {
    /// `burst` requests at once, then one every `emission`.
    pub fn new(emission: Duration, burst: u32) -> Self {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(emission.max(Duration::from_nanos(1)))
            .unwrap_or(Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        let clock = DefaultClock::default();
        Self {
            limiter: RateLimiter::dashmap_with_clock(quota, clock.clone())
                .with_middleware::<StateInformationMiddleware>(),
            clock,
            emission,
        }
    }

    pub fn check(&self, key: &str, burst: u64) -> Decision {
        match self.limiter.check_key(&key.to_string()) {
            Ok(snapshot) => {
                let remaining = u64::from(snapshot.remaining_burst_capacity());
                let used = u32::try_from(burst.saturating_sub(remaining)).unwrap_or(u32::MAX);
                Decision {
                    allowed: true,
                    remaining,
                    reset: self.emission * used,
                    retry_after: Duration::ZERO,
                }
            }
            Err(not_until) => {
                let retry_after = not_until.wait_time_from(self.clock.now());
                let full =
                    self.emission * u32::try_from(burst.saturating_sub(1)).unwrap_or(u32::MAX);
                Decision {
                    allowed: false,
                    remaining: 0,
                    reset: retry_after + full,
                    retry_after,
                }
            }
        }
    }

    /// Forgets keys whose quota is whole again, so memory follows active clients.
    pub fn sweep(&self) {
        self.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusal_with_a_wait() {
        let limiter = LocalLimiter::new(Duration::from_millis(600), 3);
        let remaining: Vec<u64> = (0..3).map(|_| limiter.check("k", 3).remaining).collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limiter.check("k", 3);
        assert!(!refused.allowed);
        assert!(
            refused.retry_after > Duration::from_millis(500)
                && refused.retry_after <= Duration::from_millis(600)
        );
        assert!(limiter.check("other", 3).allowed, "keys are independent");
    }
}

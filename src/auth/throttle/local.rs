//! In-process failure counters: one process's view, used without Redis and while Redis
//! fails under `rate_limit.fail_open = true`.

use super::Counter;
use moka::sync::Cache;
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
struct Failures {
    count: u64,
    last: Instant,
}

pub struct LocalCounters {
    failures: Cache<String, Failures>,
    lockout: Duration,
}

impl LocalCounters {
    pub fn new(lockout: Duration) -> Self {
        Self {
            // Each failure restarts its counter's lifetime: a lockout lasts `lockout` after
            // the last failure, as in Redis.
            failures: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(lockout)
                .build(),
            lockout,
        }
    }

    /// The longest remaining lockout among `counters` at their limit.
    pub fn locked_for(&self, counters: &[Counter]) -> Option<Duration> {
        counters
            .iter()
            .filter_map(|c| {
                let f = self.failures.get(&c.key).filter(|f| f.count >= c.limit)?;
                Some(self.lockout.saturating_sub(f.last.elapsed()))
            })
            .max()
    }

    pub fn add_failure(&self, counters: &[Counter]) {
        for counter in counters {
            self.failures
                .entry(counter.key.clone())
                .and_upsert_with(|current| Failures {
                    count: current.map_or(0, |e| e.value().count) + 1,
                    last: Instant::now(),
                });
        }
    }

    pub fn clear(&self, key: &str) {
        self.failures.invalidate(key);
    }
}

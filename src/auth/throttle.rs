//! Brute-force protection for logins: failures are counted per account and per client IP;
//! past the limit further attempts get 429 until the lockout passes. In-process for now;
//! the rate-limit feature moves the counters to Redis for fleets.

use moka::sync::Cache;
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
struct Failures {
    count: u64,
    last: Instant,
}

pub struct LoginThrottle {
    failures: Cache<String, Failures>,
    max_per_account: u64,
    max_per_ip: u64,
    lockout: Duration,
}

impl LoginThrottle {
    pub fn new(max_per_account: u64, max_per_ip: u64, lockout: Duration) -> Self {
        Self {
            failures: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(lockout)
                .build(),
            max_per_account,
            max_per_ip,
            lockout,
        }
    }

    fn keys(email: &str, ip: Option<&str>) -> [(String, bool); 2] {
        [
            (format!("acct:{email}"), true),
            (format!("ip:{}", ip.unwrap_or("unknown")), false),
        ]
    }

    /// `Err(seconds to wait)` when the account or the IP is locked.
    pub fn check(&self, email: &str, ip: Option<&str>) -> Result<(), u64> {
        for (key, is_account) in Self::keys(email, ip) {
            let limit = if is_account {
                self.max_per_account
            } else {
                self.max_per_ip
            };
            if let Some(f) = self.failures.get(&key).filter(|f| f.count >= limit) {
                let wait = self.lockout.saturating_sub(f.last.elapsed());
                return Err(wait.as_secs().max(1));
            }
        }
        Ok(())
    }

    pub fn record_failure(&self, email: &str, ip: Option<&str>) {
        for (key, _) in Self::keys(email, ip) {
            self.failures.entry(key).and_upsert_with(|current| {
                let count = current.map_or(0, |e| e.value().count) + 1;
                Failures {
                    count,
                    last: Instant::now(),
                }
            });
        }
    }

    /// A successful login clears the account's count (not the IP's).
    pub fn record_success(&self, email: &str) {
        self.failures.invalidate(&format!("acct:{email}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_locks_after_its_limit_and_success_unlocks_it() {
        let throttle = LoginThrottle::new(3, 100, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(throttle.check("a@x.io", Some("1.1.1.1")).is_ok());
            throttle.record_failure("a@x.io", Some("1.1.1.1"));
        }
        let wait = throttle
            .check("a@x.io", Some("2.2.2.2"))
            .expect_err("locked");
        assert!((1..=60).contains(&wait));
        assert!(
            throttle.check("b@x.io", Some("1.1.1.1")).is_ok(),
            "other accounts are unaffected"
        );
        throttle.record_success("a@x.io");
        assert!(throttle.check("a@x.io", Some("1.1.1.1")).is_ok());
    }

    #[test]
    fn one_ip_failing_across_many_accounts_is_locked() {
        let throttle = LoginThrottle::new(100, 2, Duration::from_secs(60));
        throttle.record_failure("a@x.io", Some("9.9.9.9"));
        throttle.record_failure("b@x.io", Some("9.9.9.9"));
        assert!(throttle.check("c@x.io", Some("9.9.9.9")).is_err());
        assert!(throttle.check("c@x.io", Some("8.8.8.8")).is_ok());
    }
}

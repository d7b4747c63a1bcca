//! Brute-force protection for logins: failures are counted per account and per client
//! address (IPv6 by /64, like the rate limiter); past the limit further attempts get 429
//! until `auth.login_lockout` after the last failure. With Redis the counters are shared
//! by the fleet; when Redis fails, `rate_limit.fail_open` decides: true counts in-process
//! meanwhile, false refuses logins (503) rather than let guesses go uncounted.

mod local;
mod shared;

use crate::config::AuthConfig;
use crate::redis_conn::RedisConn;
use crate::rest::client_ip::client_key;
use local::LocalCounters;
use shared::SharedCounters;
use std::net::IpAddr;
use std::time::Duration;

/// One failure counter of a login attempt and the count that locks it.
pub struct Counter {
    key: String,
    limit: u64,
}

/// Why a login may not be attempted now.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Locked out; retry after this many seconds.
    Locked(u64),
    /// Redis failed and the limits fail closed.
    Unavailable,
}

/// Where the counters live.
enum Counters {
    Local(LocalCounters),
    Shared {
        /// Boxed: a Redis connection is several times the size of the local counters.
        redis: Box<SharedCounters>,
        /// Counts while Redis fails, when failing open.
        fallback: Option<LocalCounters>,
    },
}

pub struct LoginThrottle {
    counters: Counters,
    max_per_account: u64,
    max_per_ip: u64,
}

impl LoginThrottle {
    /// In Redis when `redis` is given, else in-process.
    pub fn new(config: &AuthConfig, redis: Option<RedisConn>, fail_open: bool) -> Self {
        let lockout = config.login_lockout.get();
        let counters = match redis {
            None => Counters::Local(LocalCounters::new(lockout)),
            Some(redis) => Counters::Shared {
                redis: Box::new(SharedCounters::new(redis, lockout)),
                fallback: fail_open.then(|| LocalCounters::new(lockout)),
            },
        };
        Self {
            counters,
            max_per_account: config.max_failed_logins.get(),
            max_per_ip: config.max_failed_logins_per_ip.get(),
        }
    }

    fn account(&self, email: &str) -> Counter {
        Counter {
            key: format!("acct:{email}"),
            limit: self.max_per_account,
        }
    }

    fn counters(&self, email: &str, ip: Option<IpAddr>) -> [Counter; 2] {
        let address = Counter {
            key: format!("ip:{}", client_key(ip)),
            limit: self.max_per_ip,
        };
        [self.account(email), address]
    }

    pub async fn check(&self, email: &str, ip: Option<IpAddr>) -> Result<(), Refused> {
        let counters = self.counters(email, ip);
        let wait = match &self.counters {
            Counters::Local(local) => local.locked_for(&counters),
            Counters::Shared { redis, fallback } => match redis.locked_for(&counters).await {
                Ok(wait) => wait,
                Err(_) => fallback
                    .as_ref()
                    .ok_or(Refused::Unavailable)?
                    .locked_for(&counters),
            },
        };
        match wait {
            Some(wait) => Err(Refused::Locked(whole_seconds(wait))),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt; `Err` when it could not be counted and limits fail closed.
    pub async fn record_failure(&self, email: &str, ip: Option<IpAddr>) -> Result<(), Refused> {
        let counters = self.counters(email, ip);
        match &self.counters {
            Counters::Local(local) => local.add_failure(&counters),
            Counters::Shared { redis, fallback } => {
                if redis.add_failure(&counters).await.is_err() {
                    fallback
                        .as_ref()
                        .ok_or(Refused::Unavailable)?
                        .add_failure(&counters);
                }
            }
        }
        Ok(())
    }

    /// A successful login clears the account's count (not the address's). Best effort:
    /// a count left behind in a failing Redis only expires later.
    pub async fn record_success(&self, email: &str) {
        let account = self.account(email);
        match &self.counters {
            Counters::Local(local) => local.clear(&account.key),
            Counters::Shared { redis, fallback } => {
                // The error is counted and logged by the Redis connection.
                let _ = redis.clear(&account).await;
                if let Some(local) = fallback {
                    local.clear(&account.key);
                }
            }
        }
    }
}

/// Whole seconds, rounded up, at least 1.
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests;

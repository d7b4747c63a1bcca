//! Rate limiting: GCRA per named policy and caller key. In-process (governor) by default;
//! with Redis, one Lua script per check so a fleet shares one quota. If Redis fails,
//! `fail_open` falls back to per-process limits (logged once a minute, counted), otherwise
//! requests get 503.

mod decision;
mod local;
mod redis_gcra;

pub use decision::{Decision, policy_header};

use crate::config::{KeyKind, RateLimitConfig};
use crate::redis_conn::RedisConn;
use crate::stats::{DecisionMinute, MinuteRing, PolicyDecisions};
use local::LocalLimiter;
use redis_gcra::RedisGcra;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

/// How often a failing Redis is logged while requests fall back to local limits.
const DEGRADED_LOG_INTERVAL: Duration = Duration::from_secs(60);

pub struct Policy {
    pub name: String,
    pub key: KeyKind,
    pub quota: u64,
    pub window: Duration,
    pub burst: u64,
    emission: Duration,
    local: LocalLimiter,
    /// Per minute: allowed, rejected (beside `levee_rate_limit_decisions_total`).
    decisions: MinuteRing<2>,
}

/// Redis could not be asked and the config says to fail closed.
#[derive(Debug, thiserror::Error)]
#[error("the shared rate limiter is unavailable")]
pub struct Unavailable;

pub struct RateLimiter {
    config: RateLimitConfig,
    policies: HashMap<String, Policy>,
    redis: Option<(RedisConn, RedisGcra)>,
    last_degraded_log: Mutex<Option<Instant>>,
}

impl RateLimiter {
    pub fn new(config: &RateLimitConfig, redis: Option<RedisConn>) -> Self {
        let policies = config
            .policies
            .iter()
            .map(|(name, p)| {
                let emission = p.period.get() / u32::try_from(p.quota.get()).unwrap_or(u32::MAX);
                let policy = Policy {
                    name: name.clone(),
                    key: p.key.clone(),
                    quota: p.quota.get(),
                    window: p.period.get(),
                    burst: p.burst.get(),
                    emission,
                    local: LocalLimiter::new(emission, p.burst.get_u32()),
                    decisions: MinuteRing::default(),
                };
                (name.clone(), policy)
            })
            .collect();
        Self {
            config: config.clone(),
            policies,
            redis: redis.map(|r| (r, RedisGcra::new())),
            last_degraded_log: Mutex::new(None),
        }
    }

    /// Whether requests to `path` are limited at all (limiting on, path not exempt).
    pub fn guards(&self, path: &str) -> bool {
        self.config.enabled
            && !self
                .config
                .exempt
                .iter()
                .any(|prefix| path.starts_with(prefix.as_str()))
    }

    /// The policies guarding `method path`, each of which must allow the request: the first
    /// matching route rule's, else the signed-in or anonymous default. Empty when limiting
    /// is off or the path is exempt.
    pub fn policies_for(&self, method: &str, path: &str, signed_in: bool) -> Vec<&Policy> {
        let config = &self.config;
        if !self.guards(path) {
            return Vec::new();
        }
        let routed = config.routes.iter().find(|r| {
            path.starts_with(r.path.as_str())
                && (r.methods.is_empty()
                    || r.methods.iter().any(|m| m.eq_ignore_ascii_case(method)))
        });
        let names = match routed {
            Some(rule) => rule.policies.as_slice(),
            None if signed_in => std::slice::from_ref(&config.authenticated_policy),
            None => std::slice::from_ref(&config.anonymous_policy),
        };
        names.iter().filter_map(|n| self.policies.get(n)).collect()
    }

    /// Counts one request of `key` against `policy`.
    pub async fn check(&self, policy: &Policy, key: &str) -> Result<Decision, Unavailable> {
        let bucket = format!("rl:{}:{key}", policy.name);
        let decision = match &self.redis {
            None => policy.local.check(&bucket, policy.burst),
            Some((redis, gcra)) => match gcra
                .check(redis, &bucket, policy.emission, policy.burst)
                .await
            {
                Ok(decision) => decision,
                Err(e) => {
                    metrics::counter!("levee_rate_limit_backend_errors_total").increment(1);
                    self.log_degraded(&e);
                    if !self.config.fail_open {
                        return Err(Unavailable);
                    }
                    policy.local.check(&bucket, policy.burst)
                }
            },
        };
        let outcome = if decision.allowed {
            "allowed"
        } else {
            "rejected"
        };
        metrics::counter!("levee_rate_limit_decisions_total", "policy" => policy.name.clone(), "decision" => outcome).increment(1);
        let column = usize::from(!decision.allowed);
        policy.decisions.update(SystemTime::now(), |counts| {
            counts[column].fetch_add(1, Ordering::Relaxed);
        });
        Ok(decision)
    }

    fn log_degraded(&self, error: &redis::RedisError) {
        let mut last = self
            .last_degraded_log
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|at| at.elapsed() >= DEGRADED_LOG_INTERVAL) {
            *last = Some(Instant::now());
            let fallback = if self.config.fail_open {
                "per-process limits"
            } else {
                "503 (fail closed)"
            };
            tracing::warn!(error = %error, fallback, "the Redis rate limiter failed");
        }
    }

    /// Each policy's decisions per minute, the last hour up to `now`, by policy name.
    pub fn decisions(&self, now: SystemTime) -> Vec<PolicyDecisions> {
        let mut all: Vec<PolicyDecisions> = self
            .policies
            .values()
            .map(|p| PolicyDecisions {
                policy: p.name.clone(),
                quota: p.quota,
                window_secs: p.window.as_secs(),
                minutes: (p.decisions.read(now).into_iter())
                    .map(DecisionMinute::from_counts)
                    .collect(),
            })
            .collect();
        all.sort_by(|a, b| a.policy.cmp(&b.policy));
        all
    }

    /// Drops idle in-process buckets; called periodically.
    pub fn sweep(&self) {
        self.policies.values().for_each(|p| p.local.sweep());
    }
}

//! The shared Redis connection (when `redis.url` is set): one multiplexed, auto-reconnecting
//! connection per process, every command bounded by `redis.command_timeout`.

use crate::config::RedisConfig;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct RedisConn {
    client: redis::Client,
    manager: ConnectionManager,
    prefix: String,
    backoff: Duration,
    /// Shared by every clone: after an error all users skip Redis until this passes.
    down_until: Arc<Mutex<Option<Instant>>>,
    /// Failed calls by user, as `levee_redis_errors_total` counts them (admin console).
    errors: Arc<Mutex<BTreeMap<&'static str, u64>>>,
}

impl RedisConn {
    /// Connects lazily: a Redis that is down at start-up only fails readiness, not boot.
    pub fn open(config: &RedisConfig, url: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let timeout = config.command_timeout.get();
        let manager_config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(timeout))
            .set_connection_timeout(Some(timeout))
            // A request never waits out a reconnect loop: one quick retry, then the caller's
            // fallback (L1/database, per-process limits) takes over.
            .set_number_of_retries(1)
            .set_max_delay(timeout);
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), manager_config)?;
        Ok(Self {
            client,
            manager,
            prefix: config.key_prefix.clone(),
            backoff: config.backoff.get(),
            down_until: Arc::new(Mutex::new(None)),
            errors: Arc::default(),
        })
    }

    /// `key` under this deployment's prefix.
    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// For connections of their own (pub/sub).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    pub fn connection(&self) -> ConnectionManager {
        self.manager.clone()
    }

    /// Runs `op` unless Redis failed within the last `redis.backoff`; an error (re)starts
    /// the back-off, is counted and logged once per back-off, and is returned.
    pub async fn guarded<T>(
        &self,
        user: &'static str,
        op: impl Future<Output = redis::RedisResult<T>>,
    ) -> redis::RedisResult<T> {
        let down = *self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        if down.is_some_and(|until| Instant::now() < until) {
            return Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "Redis is backing off after an error",
            )));
        }
        let result = op.await;
        if let Err(e) = &result {
            metrics::counter!("levee_redis_errors_total", "user" => user).increment(1);
            *self
                .errors
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(user)
                .or_default() += 1;
            let mut down = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
            if down.is_none_or(|until| Instant::now() >= until) {
                tracing::warn!(error = %e, backoff_s = self.backoff.as_secs_f64(), "Redis failed; bypassing it for a while");
            }
            *down = Some(Instant::now() + self.backoff);
        }
        result
    }

    /// Failed calls by user since the process started.
    pub fn error_counts(&self) -> BTreeMap<String, u64> {
        let errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        errors.iter().map(|(u, n)| ((*u).to_string(), *n)).collect()
    }

    pub async fn ping(&self) -> Result<(), redis::RedisError> {
        let mut conn = self.connection();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
    }
}

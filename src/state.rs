//! `AppState`: what features may use while serving — pools, cache, job queue, auth keys,
//! rate limiter, Redis and config. Features depend on this, never on `app`, which builds it.

use crate::auth::Auth;
use crate::cache::Cache;
use crate::config::Config;
use crate::db::Db;
use crate::jobs::JobQueue;
use crate::rate_limit::RateLimiter;
use crate::redis_conn::RedisConn;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Everything a request handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The parts `AppState` is made of; the composition root fills them in.
pub struct Parts {
    pub config: Config,
    pub db: Db,
    pub auth: Auth,
    pub rate_limiter: RateLimiter,
    pub cache: Cache,
    pub jobs: JobQueue,
    pub redis: Option<RedisConn>,
    pub metrics: PrometheusHandle,
}

struct Inner {
    parts: Parts,
    started: Instant,
    shutting_down: AtomicBool,
}

impl AppState {
    pub fn new(parts: Parts) -> Self {
        Self(Arc::new(Inner {
            parts,
            started: Instant::now(),
            shutting_down: AtomicBool::new(false),
        }))
    }

    pub fn config(&self) -> &Config {
        &self.0.parts.config
    }

    pub fn db(&self) -> &Db {
        &self.0.parts.db
    }

    pub fn auth(&self) -> &Auth {
        &self.0.parts.auth
    }

    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.0.parts.rate_limiter
    }

    pub fn jobs(&self) -> &JobQueue {
        &self.0.parts.jobs
    }

    pub fn cache(&self) -> &Cache {
        &self.0.parts.cache
    }

    pub fn redis(&self) -> Option<&RedisConn> {
        self.0.parts.redis.as_ref()
    }

    pub fn metrics(&self) -> &PrometheusHandle {
        &self.0.parts.metrics
    }

    pub fn uptime(&self) -> Duration {
        self.0.started.elapsed()
    }

    /// Turns `/ready` to 503 so load balancers drain this instance.
    pub fn begin_shutdown(&self) {
        self.0.shutting_down.store(true, Ordering::SeqCst);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.0.shutting_down.load(Ordering::SeqCst)
    }
}

//! `AppState`: what features may use while serving — pools, cache, job queue, auth keys,
//! rate limiter, Redis, the outside providers and config. Features depend on this, never on
//! `app`, which builds it. It also holds the readiness checker's last report, which `/ready` answers from.

use crate::auth::Auth;
use crate::cache::Cache;
use crate::config::Config;
use crate::db::Db;
use crate::jobs::JobQueue;
use crate::orders::PlacementWriter;
use crate::providers::Providers;
use crate::rate_limit::RateLimiter;
use crate::redis_conn::RedisConn;
use crate::stats::{Instance, Recorder};
use metrics_exporter_prometheus::PrometheusHandle;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
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
    /// The payment and shipping providers orders call.
    pub providers: Providers,
    /// Commits placed orders in groups.
    pub placements: PlacementWriter,
}

struct Inner {
    parts: Parts,
    started: Instant,
    shutting_down: AtomicBool,
    readiness: Readiness,
    stats: Arc<Recorder>,
    instance: Instance,
}

impl AppState {
    pub fn new(parts: Parts) -> Self {
        Self(Arc::new(Inner {
            parts,
            started: Instant::now(),
            shutting_down: AtomicBool::new(false),
            readiness: Readiness::default(),
            stats: Arc::new(Recorder::default()),
            instance: Instance::current("serve"),
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

    pub fn placements(&self) -> &PlacementWriter {
        &self.0.parts.placements
    }

    pub fn cache(&self) -> &Cache {
        &self.0.parts.cache
    }

    pub fn redis(&self) -> Option<&RedisConn> {
        self.0.parts.redis.as_ref()
    }

    pub fn providers(&self) -> &Providers {
        &self.0.parts.providers
    }

    pub fn metrics(&self) -> &PrometheusHandle {
        &self.0.parts.metrics
    }

    /// Request statistics of this process, fed by the HTTP layer.
    pub fn stats(&self) -> &Arc<Recorder> {
        &self.0.stats
    }

    /// This process as the fleet view lists it.
    pub fn instance(&self) -> &Instance {
        &self.0.instance
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

    pub fn readiness(&self) -> &Readiness {
        &self.0.readiness
    }
}

/// One round of dependency checks.
#[derive(Debug, Clone)]
pub struct DependencyReport {
    /// Each dependency checked, with `ok` or why it failed.
    pub checks: BTreeMap<String, String>,
    /// Failing dependencies without which requests fail: the instance is not ready.
    pub failing: Vec<String>,
    /// Failing dependencies the instance serves without, in a degraded mode.
    pub degraded: Vec<String>,
}

/// The last report of the readiness checker, and how many rounds it has run.
pub struct Readiness(RwLock<(u64, Arc<DependencyReport>)>);

impl Default for Readiness {
    /// Not ready until the first round has run.
    fn default() -> Self {
        let report = DependencyReport {
            checks: BTreeMap::from([("lifecycle".into(), "not checked yet".into())]),
            failing: vec!["lifecycle".into()],
            degraded: Vec::new(),
        };
        Self(RwLock::new((0, Arc::new(report))))
    }
}

impl Readiness {
    pub fn publish(&self, report: DependencyReport) {
        let mut latest = self.0.write().unwrap_or_else(|e| e.into_inner());
        *latest = (latest.0 + 1, Arc::new(report));
    }

    pub fn latest(&self) -> Arc<DependencyReport> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).1.clone()
    }

    /// Rounds published so far: requests to `/ready` must not add any.
    pub fn rounds(&self) -> u64 {
        self.0.read().unwrap_or_else(|e| e.into_inner()).0
    }
}

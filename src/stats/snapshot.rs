//! `StatsSnapshot`: what one process reports about itself, as a plain serialisable value
//! so that a fleet's snapshots can be published to a shared store and merged.

use super::histogram::Histogram;
use super::resources::{CacheDetail, PolicyDecisions, PoolStats, ReplicaHistory};
use crate::resilience::DependencyView;
use serde::{Deserialize, Serialize};

/// One process's statistics at one moment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// Which process took it; empty (the default) in a fleet's merged totals.
    #[serde(default)]
    pub instance: Instance,
    /// Seconds since the Unix epoch when it was taken.
    pub taken_at: u64,
    pub version: String,
    pub uptime_secs: u64,
    /// Totals per route template and method since the process started.
    pub routes: Vec<RouteStats>,
    /// The last 60 minutes, oldest first.
    pub minutes: Vec<MinuteStats>,
    pub cache: CacheStats,
    /// Empty when no replicas are configured.
    pub replicas: Vec<ReplicaStats>,
    /// `None` when the queue could not be measured.
    pub queue: Option<QueueStats>,
    /// The cache per namespace and tier, L1's size, Redis errors.
    #[serde(default)]
    pub cache_detail: CacheDetail,
    /// Connection pools by name.
    #[serde(default)]
    pub pools: Vec<PoolStats>,
    /// Each replica's lag per minute, the last 60 minutes.
    #[serde(default)]
    pub replica_history: Vec<ReplicaHistory>,
    /// Each rate-limit policy's decisions per minute, the last 60 minutes.
    #[serde(default)]
    pub rate_limits: Vec<PolicyDecisions>,
    /// Each outside provider's circuit breaker and bulkhead in this process; a fleet's
    /// merged totals leave it empty (a breaker's state belongs to one process).
    #[serde(default)]
    pub dependencies: Vec<DependencyView>,
}

/// A process of the fleet, as the console lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// Random per process start, so a restarted process is a new instance.
    pub id: String,
    /// `serve` or `worker`.
    pub role: String,
    pub hostname: String,
    pub pid: u32,
}

impl Instance {
    /// This process, in `role`, with a fresh id.
    pub fn current(role: &str) -> Self {
        let hostname = hostname::get()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self {
            id: uuid::Uuid::new_v4().simple().to_string(),
            role: role.to_string(),
            hostname,
            pid: std::process::id(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteStats {
    pub method: String,
    pub route: String,
    pub requests: u64,
    pub errors: u64,
    pub latency: Histogram,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MinuteStats {
    /// Minutes since the Unix epoch.
    pub minute: u64,
    pub requests: u64,
    pub errors: u64,
    pub latency: Histogram,
}

/// Cache lookups: answered from L1 or L2 (fresh or stale), or fetched from the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
}

impl CacheStats {
    /// Hits among all lookups; `None` before the first lookup.
    pub fn hit_ratio(&self) -> Option<f64> {
        let total = self.hits + self.misses;
        (total > 0).then(|| self.hits as f64 / total as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicaStats {
    pub name: String,
    /// Seconds behind the primary at the last sample; `None` when it was not reached.
    pub lag_seconds: Option<f64>,
    pub in_rotation: bool,
}

/// Jobs waiting to run (available, scheduled or due for retry) and the oldest wait.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueStats {
    pub waiting: u64,
    pub running: u64,
    pub dead: u64,
    pub oldest_wait_secs: f64,
}

impl StatsSnapshot {
    pub fn requests_total(&self) -> u64 {
        self.routes.iter().map(|r| r.requests).sum()
    }

    pub fn errors_total(&self) -> u64 {
        self.routes.iter().map(|r| r.errors).sum()
    }

    /// Latency of every request in the last 60 minutes.
    pub fn recent_latency(&self) -> Histogram {
        let mut all = Histogram::default();
        for minute in &self.minutes {
            all.merge(&minute.latency);
        }
        all
    }

    /// Routes by p95 latency, slowest first, with at least one request.
    pub fn slowest_routes(&self, limit: usize) -> Vec<(&RouteStats, f64)> {
        let mut routes: Vec<(&RouteStats, f64)> = self
            .routes
            .iter()
            .filter_map(|r| Some((r, r.latency.quantile_ms(0.95)?)))
            .collect();
        routes.sort_by(|a, b| b.1.total_cmp(&a.1));
        routes.truncate(limit);
        routes
    }
}

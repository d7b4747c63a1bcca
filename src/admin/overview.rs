//! The overview: the fleet's merged `StatsSnapshot` (per process, the numbers `/metrics`
//! reports, from the same recording points) turned into tiles, charts, the instances and
//! the slowest routes, with the guides' thresholds: p95 above 200 ms warns and above
//! 500 ms is critical; a cache hit ratio below 85% warns.

use super::charts::{Series, Threshold, line_chart};
use super::fleet::{FleetView, InstanceRow};
use crate::auth::Permission;
use crate::state::AppState;
use crate::stats::{QueueStats, StatsSnapshot};
use crate::users::Role;
use std::time::SystemTime;

const P95_WARN_MS: f64 = 200.0;
const P95_CRITICAL_MS: f64 = 500.0;
const HIT_RATIO_WARN: f64 = 0.85;
const SLOW_ROUTES: usize = 8;

/// What this serving process reports about itself now.
pub async fn snapshot(state: &AppState) -> StatsSnapshot {
    let now = SystemTime::now();
    StatsSnapshot {
        routes: state.stats().routes(),
        minutes: state.stats().minutes(now),
        cache: state.cache().lookups(),
        cache_detail: state.cache().detail().await,
        pools: state.db().pool_stats(),
        replica_history: state.db().replica_history(now),
        rate_limits: state.rate_limiter().decisions(now),
        ..super::fleet::process_snapshot(
            state.db(),
            state.providers(),
            state.instance(),
            state.uptime(),
        )
        .await
    }
}

/// How a number compares with its thresholds; the CSS class of its badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Critical,
    /// Nothing measured yet.
    Idle,
}

impl Level {
    pub fn class(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Critical => "critical",
            Level::Idle => "idle",
        }
    }

    fn of_p95(ms: Option<f64>) -> Self {
        match ms {
            None => Level::Idle,
            Some(ms) if ms > P95_CRITICAL_MS => Level::Critical,
            Some(ms) if ms > P95_WARN_MS => Level::Warn,
            Some(_) => Level::Ok,
        }
    }
}

/// One tile: a headline number with its badge and a line of context.
pub struct Tile {
    pub title: &'static str,
    pub value: String,
    pub detail: String,
    pub level: Level,
    /// `data-metric` name, so scripts and tests can read the number.
    pub metric: &'static str,
}

pub struct SlowRoute {
    pub method: String,
    pub route: String,
    pub requests: u64,
    pub errors: u64,
    pub p50: String,
    pub p95: String,
    pub p99: String,
    pub level: Level,
}

/// Everything the live panel shows.
pub struct Overview {
    pub tiles: Vec<Tile>,
    pub rate_chart: String,
    pub error_chart: String,
    pub latency_chart: String,
    pub slow_routes: Vec<SlowRoute>,
    pub instances: Vec<InstanceRow>,
}

fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "–".into(), |v| format!("{v:.1} ms"))
}

impl Overview {
    /// The overview of `fleet` as `role` may see it: the queue is shown to those who may
    /// manage jobs, as in the API.
    pub fn new(fleet: &FleetView, role: Role) -> Self {
        let snap = &fleet.total;
        let recent = snap.recent_latency();
        let p95 = recent.quantile_ms(0.95);
        let last_minute = snap.minutes.iter().rev().nth(1);
        let rate = last_minute.map_or(0.0, |m| m.requests as f64 / 60.0);
        let mut tiles = vec![
            fleet.tile(),
            Tile {
                title: "Requests",
                value: snap.requests_total().to_string(),
                detail: format!(
                    "{rate:.2}/s last minute · {} server errors",
                    snap.errors_total()
                ),
                level: Level::Ok,
                metric: "requests_total",
            },
            Tile {
                title: "p95 latency (60 min)",
                value: ms(p95),
                detail: format!(
                    "p50 {} · p99 {}",
                    ms(recent.quantile_ms(0.5)),
                    ms(recent.quantile_ms(0.99))
                ),
                level: Level::of_p95(p95),
                metric: "p95_ms",
            },
            cache_tile(snap),
            replica_tile(snap),
        ];
        if Permission::ManageJobs.granted_to(role) {
            tiles.push(queue_tile(snap.queue));
        }
        Self {
            tiles,
            rate_chart: rate_chart(snap),
            error_chart: error_chart(snap),
            latency_chart: latency_chart(snap),
            slow_routes: snap
                .slowest_routes(SLOW_ROUTES)
                .into_iter()
                .map(|(r, p95)| SlowRoute {
                    method: r.method.clone(),
                    route: r.route.clone(),
                    requests: r.requests,
                    errors: r.errors,
                    p50: ms(r.latency.quantile_ms(0.5)),
                    p95: ms(Some(p95)),
                    p99: ms(r.latency.quantile_ms(0.99)),
                    level: Level::of_p95(Some(p95)),
                })
                .collect(),
            instances: fleet.rows(),
        }
    }
}

fn cache_tile(snap: &StatsSnapshot) -> Tile {
    let ratio = snap.cache.hit_ratio();
    Tile {
        title: "Cache hit ratio",
        value: ratio.map_or_else(|| "–".into(), |r| format!("{:.1}%", r * 100.0)),
        detail: format!("{} hits · {} misses", snap.cache.hits, snap.cache.misses),
        level: match ratio {
            None => Level::Idle,
            Some(r) if r < HIT_RATIO_WARN => Level::Warn,
            Some(_) => Level::Ok,
        },
        metric: "cache_hit_ratio",
    }
}

fn replica_tile(snap: &StatsSnapshot) -> Tile {
    let worst = snap
        .replicas
        .iter()
        .map(|r| r.lag_seconds.unwrap_or(f64::INFINITY))
        .fold(None, |acc: Option<f64>, lag| {
            Some(acc.map_or(lag, |a| a.max(lag)))
        });
    let in_rotation = snap.replicas.iter().filter(|r| r.in_rotation).count();
    let (value, level) = match worst {
        None => ("no replicas configured".to_string(), Level::Idle),
        Some(lag) if lag.is_infinite() => ("unreachable".to_string(), Level::Critical),
        Some(lag) => (format!("{:.0} ms", lag * 1000.0), Level::Ok),
    };
    let level = match level {
        Level::Ok if in_rotation < snap.replicas.len() => Level::Warn,
        other => other,
    };
    Tile {
        title: "Replica lag",
        value,
        detail: format!("{in_rotation} of {} in rotation", snap.replicas.len()),
        level,
        metric: "replica_lag",
    }
}

fn queue_tile(queue: Option<QueueStats>) -> Tile {
    match queue {
        Some(q) => Tile {
            title: "Queue backlog",
            value: q.waiting.to_string(),
            detail: format!(
                "oldest waits {:.0} s · {} running · {} dead",
                q.oldest_wait_secs, q.running, q.dead
            ),
            level: if q.dead > 0 { Level::Warn } else { Level::Ok },
            metric: "queue_waiting",
        },
        None => Tile {
            title: "Queue backlog",
            value: "unavailable".into(),
            detail: "the job table could not be read".into(),
            level: Level::Critical,
            metric: "queue_waiting",
        },
    }
}

fn per_minute(
    snap: &StatsSnapshot,
    f: impl Fn(&crate::stats::MinuteStats) -> Option<f64>,
) -> Vec<Option<f64>> {
    snap.minutes.iter().map(f).collect()
}

fn rate_chart(snap: &StatsSnapshot) -> String {
    let points = per_minute(snap, |m| Some(m.requests as f64 / 60.0));
    line_chart(
        "Requests per second, last 60 minutes",
        &[Series {
            class: "rate",
            points,
        }],
        &[],
    )
}

fn error_chart(snap: &StatsSnapshot) -> String {
    let points = per_minute(snap, |m| {
        (m.requests > 0).then(|| 100.0 * m.errors as f64 / m.requests as f64)
    });
    line_chart(
        "Server error rate (%), last 60 minutes",
        &[Series {
            class: "errors",
            points,
        }],
        &[],
    )
}

fn latency_chart(snap: &StatsSnapshot) -> String {
    let quantile = |class, q| Series {
        class,
        points: per_minute(snap, |m| m.latency.quantile_ms(q)),
    };
    line_chart(
        "Latency p50, p95, p99 (ms), last 60 minutes",
        &[
            quantile("p50", 0.5),
            quantile("p95", 0.95),
            quantile("p99", 0.99),
        ],
        &[
            Threshold {
                class: "warn",
                value: P95_WARN_MS,
            },
            Threshold {
                class: "critical",
                value: P95_CRITICAL_MS,
            },
        ],
    )
}

//! The database page: each connection pool now (in use, idle, maximum) with its sampled
//! acquire times and timeouts, and each replica's lag per minute over the last hour,
//! charted against `database.max_replica_lag`, with its rotation state.

use super::charts::{Series, Threshold, line_chart};
use super::figures::ms;
use super::pages::Chrome;
use crate::stats::StatsSnapshot;
use askama::Template;

pub struct PoolRow {
    pub name: String,
    pub role: String,
    pub in_use: u64,
    pub idle: u64,
    pub max: u64,
    pub samples: u64,
    pub acquire_p50: String,
    pub acquire_p99: String,
    pub timeouts: u64,
}

pub struct ReplicaPanel {
    pub name: String,
    pub lag: String,
    pub in_rotation: bool,
    /// Minutes of the last hour with at least one sample out of rotation.
    pub minutes_out: usize,
    pub chart: String,
}

#[derive(Template)]
#[template(path = "admin/database.html")]
pub struct DatabasePage {
    pub chrome: Chrome,
    pub pools: Vec<PoolRow>,
    pub replicas: Vec<ReplicaPanel>,
    pub max_lag_ms: f64,
}

impl DatabasePage {
    pub fn new(chrome: Chrome, snap: &StatsSnapshot, max_lag: std::time::Duration) -> Self {
        let max_lag_ms = max_lag.as_secs_f64() * 1000.0;
        let pools = snap
            .pools
            .iter()
            .map(|p| PoolRow {
                name: p.name.clone(),
                role: p.role.clone(),
                in_use: p.in_use,
                idle: p.idle,
                max: p.max,
                samples: p.acquire.count(),
                acquire_p50: ms(p.acquire.quantile_ms(0.5)),
                acquire_p99: ms(p.acquire.quantile_ms(0.99)),
                timeouts: p.timeouts,
            })
            .collect();
        let replicas = snap
            .replica_history
            .iter()
            .map(|history| {
                let now = snap.replicas.iter().find(|r| r.name == history.name);
                let points = history.minutes.iter().map(|m| m.max_lag_ms()).collect();
                ReplicaPanel {
                    name: history.name.clone(),
                    lag: match now.map(|r| r.lag_seconds) {
                        Some(Some(seconds)) => ms(Some(seconds * 1000.0)),
                        Some(None) => "unreachable".into(),
                        None => "–".into(),
                    },
                    in_rotation: now.is_some_and(|r| r.in_rotation),
                    minutes_out: history
                        .minutes
                        .iter()
                        .filter(|m| m.out_of_rotation > 0)
                        .count(),
                    chart: line_chart(
                        &format!("Largest lag of {} per minute (ms)", history.name),
                        &[Series {
                            class: "lag",
                            points,
                        }],
                        &[Threshold {
                            class: "critical",
                            value: max_lag_ms,
                        }],
                    ),
                }
            })
            .collect();
        Self {
            chrome,
            pools,
            replicas,
            max_lag_ms,
        }
    }
}

//! What a process reports about itself beyond its request statistics: its identity,
//! version and uptime, the replicas it samples, the job queue it sees and its providers'
//! breakers. `serve` adds its requests and cache lookups (`admin::overview::snapshot`); a
//! `worker` reports this alone.

use crate::db::Db;
use crate::providers::Providers;
use crate::stats::{Instance, QueueStats, StatsSnapshot, epoch_seconds};
use std::time::{Duration, SystemTime};

/// The job queue's depth, or `None` (logged) when the job table could not be read.
async fn queue_stats(db: &Db) -> Option<QueueStats> {
    match crate::jobs::store::depth(db).await {
        Ok((counts, oldest)) => {
            let sum = |states: &[&str]| -> u64 {
                let jobs = counts
                    .iter()
                    .filter(|(_, s, _)| states.contains(&s.as_str()));
                jobs.map(|(_, _, n)| u64::try_from(*n).unwrap_or(0)).sum()
            };
            Some(QueueStats {
                waiting: sum(&["available", "scheduled", "retryable"]),
                running: sum(&["running"]),
                dead: sum(&["dead"]),
                oldest_wait_secs: oldest.iter().map(|(_, age)| *age).fold(0.0, f64::max),
            })
        }
        Err(e) => {
            tracing::warn!(error = %e, "measuring the job queue for the console failed");
            None
        }
    }
}

/// What any process reports; `serve` adds its requests and cache lookups.
pub async fn process_snapshot(
    db: &Db,
    providers: &Providers,
    instance: &Instance,
    uptime: Duration,
) -> StatsSnapshot {
    StatsSnapshot {
        instance: instance.clone(),
        taken_at: epoch_seconds(SystemTime::now()),
        version: env!("CARGO_PKG_VERSION").to_string(),
        uptime_secs: uptime.as_secs(),
        replicas: db.replica_stats(),
        queue: queue_stats(db).await,
        dependencies: providers.guards(),
        ..StatsSnapshot::default()
    }
}

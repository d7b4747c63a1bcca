//! A fleet's snapshots merged into one: counters add, histograms merge bucket by bucket,
//! per-minute slots align by epoch minute (every process counts minutes of the same wall
//! clock). Sections that describe shared resources rather than a process's own work (the
//! replicas, the job queue) are not added up: each process measures the same thing.

use super::recorder::MINUTES;
use super::resources::{PolicyDecisions, PoolStats, ReplicaHistory};
use super::snapshot::{MinuteStats, ReplicaStats, RouteStats, StatsSnapshot};
use std::collections::BTreeMap;

/// The fleet total of `snapshots`; its `instance` is empty.
pub fn merge(snapshots: &[&StatsSnapshot]) -> StatsSnapshot {
    let newest = snapshots.iter().max_by_key(|s| s.taken_at);
    let mut merged = StatsSnapshot {
        taken_at: newest.map_or(0, |s| s.taken_at),
        version: newest.map(|s| s.version.clone()).unwrap_or_default(),
        uptime_secs: snapshots.iter().map(|s| s.uptime_secs).max().unwrap_or(0),
        routes: merge_routes(snapshots),
        minutes: merge_minutes(snapshots),
        replicas: merge_replicas(snapshots),
        queue: newest_queue(snapshots),
        ..StatsSnapshot::default()
    };
    for snap in snapshots {
        merged.cache.hits += snap.cache.hits;
        merged.cache.misses += snap.cache.misses;
        merged.cache_detail.merge(&snap.cache_detail);
        PoolStats::merge(&mut merged.pools, &snap.pools);
        ReplicaHistory::merge(&mut merged.replica_history, &snap.replica_history);
        PolicyDecisions::merge(&mut merged.rate_limits, &snap.rate_limits);
    }
    merged
}

fn merge_routes(snapshots: &[&StatsSnapshot]) -> Vec<RouteStats> {
    let mut routes: BTreeMap<(&str, &str), RouteStats> = BTreeMap::new();
    for route in snapshots.iter().flat_map(|s| &s.routes) {
        let total = routes
            .entry((&route.route, &route.method))
            .or_insert_with(|| RouteStats {
                method: route.method.clone(),
                route: route.route.clone(),
                ..RouteStats::default()
            });
        total.requests += route.requests;
        total.errors += route.errors;
        total.latency.merge(&route.latency);
    }
    routes.into_values().collect()
}

/// The `MINUTES` minutes up to the latest any snapshot counted, oldest first.
fn merge_minutes(snapshots: &[&StatsSnapshot]) -> Vec<MinuteStats> {
    let all = || snapshots.iter().flat_map(|s| &s.minutes);
    let Some(last) = all().map(|m| m.minute).max() else {
        return Vec::new();
    };
    let first = last.saturating_sub(MINUTES as u64 - 1);
    let mut minutes: Vec<MinuteStats> = (first..=last)
        .map(|minute| MinuteStats {
            minute,
            ..MinuteStats::default()
        })
        .collect();
    for m in all().filter(|m| m.minute >= first) {
        let slot = &mut minutes[(m.minute - first) as usize];
        slot.requests += m.requests;
        slot.errors += m.errors;
        slot.latency.merge(&m.latency);
    }
    minutes
}

/// Each replica once, as the worst report of it: lagging most, out of rotation if any
/// process took it out, unreachable if any could not reach it.
fn merge_replicas(snapshots: &[&StatsSnapshot]) -> Vec<ReplicaStats> {
    let mut replicas: BTreeMap<&str, ReplicaStats> = BTreeMap::new();
    for replica in snapshots.iter().flat_map(|s| &s.replicas) {
        replicas
            .entry(&replica.name)
            .and_modify(|worst| {
                worst.lag_seconds = match (worst.lag_seconds, replica.lag_seconds) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
                worst.in_rotation &= replica.in_rotation;
            })
            .or_insert_with(|| replica.clone());
    }
    replicas.into_values().collect()
}

/// The queue is one table: the latest measurement of it.
fn newest_queue(snapshots: &[&StatsSnapshot]) -> Option<super::QueueStats> {
    snapshots
        .iter()
        .filter(|s| s.queue.is_some())
        .max_by_key(|s| s.taken_at)
        .and_then(|s| s.queue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{AtomicHistogram, QueueStats};
    use std::time::Duration;

    fn snapshot(taken_at: u64, last_minute: u64, per_minute: u64, ms: u64) -> StatsSnapshot {
        let latency = AtomicHistogram::default();
        for _ in 0..per_minute {
            latency.record(Duration::from_millis(ms));
        }
        let latency = latency.snapshot();
        let minutes = (last_minute + 1 - MINUTES as u64..=last_minute)
            .map(|minute| MinuteStats {
                minute,
                requests: per_minute,
                errors: 1,
                latency: latency.clone(),
            })
            .collect();
        StatsSnapshot {
            taken_at,
            routes: vec![RouteStats {
                method: "GET".into(),
                route: "/posts".into(),
                requests: per_minute,
                errors: 1,
                latency,
            }],
            minutes,
            queue: Some(QueueStats {
                waiting: taken_at,
                ..QueueStats::default()
            }),
            ..StatsSnapshot::default()
        }
    }

    #[test]
    fn counters_add_and_minutes_align_by_epoch_minute() {
        // The second process published a minute later: its last minute is one ahead.
        let (a, b) = (snapshot(100, 1000, 3, 4), snapshot(160, 1001, 5, 400));
        let fleet = merge(&[&a, &b]);
        assert_eq!(fleet.taken_at, 160);
        assert_eq!(fleet.requests_total(), 8);
        assert_eq!(fleet.errors_total(), 2);
        assert_eq!(fleet.routes.len(), 1, "one route, summed");
        assert_eq!(fleet.routes[0].latency.count(), 8);
        assert_eq!(fleet.minutes.len(), MINUTES);
        assert_eq!(fleet.minutes.last().map(|m| m.minute), Some(1001));
        let last = &fleet.minutes[MINUTES - 1];
        assert_eq!((last.requests, last.errors), (5, 1), "only b counted 1001");
        let both = &fleet.minutes[MINUTES - 2];
        assert_eq!((both.minute, both.requests, both.errors), (1000, 8, 2));
        assert!(both.latency.quantile_ms(0.95).is_some_and(|p| p > 300.0));
        assert_eq!(fleet.queue.map(|q| q.waiting), Some(160), "the newest");
    }

    #[test]
    fn a_replica_is_reported_as_the_worst_process_saw_it() {
        let replica = |lag: Option<f64>, in_rotation| ReplicaStats {
            name: "r1".into(),
            lag_seconds: lag,
            in_rotation,
        };
        let with = |r: ReplicaStats| StatsSnapshot {
            replicas: vec![r],
            ..StatsSnapshot::default()
        };
        let lagging = merge(&[
            &with(replica(Some(0.1), true)),
            &with(replica(Some(2.0), false)),
        ]);
        assert_eq!(lagging.replicas, vec![replica(Some(2.0), false)]);
        let lost = merge(&[&with(replica(Some(0.1), true)), &with(replica(None, true))]);
        assert_eq!(lost.replicas, vec![replica(None, true)]);
        assert!(merge(&[]).minutes.is_empty());
    }
}

//! Read replicas: plain reads go round-robin to the replicas in rotation. A monitor
//! samples each replica's lag against the primary — bytes of WAL not yet replayed, and
//! seconds behind — and takes a replica out of rotation while it lags more than
//! `database.max_replica_lag` or cannot be reached, putting it back once it has caught up.
//! Each replica also has a circuit breaker that opens on a read's connection failure
//! (`ReadConn`); a replica is in rotation while the monitor finds it current and its
//! breaker is not open.

use super::guarded::pool_breaker;
use crate::config::BreakerConfig;
use crate::resilience::{Breaker, State};
use crate::stats::{LagMinute, MinuteRing, ReplicaHistory};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

pub(super) struct Replica {
    /// `host:port/database`, the `replica` label of its metrics.
    pub name: String,
    pub conn: DatabaseConnection,
    /// Reads routed here (registered once: `Db::read()` is a hot path).
    pub reads: metrics::Counter,
    /// Opens on the first connection failure: reads have the primary to fall back on.
    pub breaker: Breaker,
    /// The monitor's verdict: reachable and not lagging.
    in_rotation: AtomicBool,
    /// Whether the monitor's last sample reached it (`levee_db_replica_up`).
    up: AtomicBool,
    /// Seconds behind at the last sample, as `f64` bits; NaN when it was not reached.
    lag_seconds: AtomicU64,
    /// When the monitor first saw it behind the primary, while it still is.
    behind_since: Mutex<Option<Instant>>,
    /// Per minute: samples, unreachable, out of rotation, largest lag (µs).
    history: MinuteRing<4>,
}

pub(super) struct Replicas {
    members: Vec<Replica>,
    next: AtomicUsize,
    /// Reads that went to the primary because no replica was in rotation (or the client
    /// reads its own writes).
    pub primary_reads: metrics::Counter,
    interval: Duration,
    max_lag: Duration,
}

/// One sample of a replica.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Lag {
    bytes: i64,
    seconds: f64,
}

impl Replicas {
    /// Replicas sampled every `interval`, out of rotation past `max_lag`.
    pub fn new(
        members: Vec<(String, DatabaseConnection)>,
        interval: Duration,
        max_lag: Duration,
        breaker: &BreakerConfig,
    ) -> Self {
        let members = members
            .into_iter()
            .map(|(name, conn)| Replica {
                reads: metrics::counter!("levee_db_reads_routed_total", "pool" => name.clone()),
                breaker: pool_breaker(&format!("replica:{name}"), breaker, 1),
                name,
                conn,
                // Out until the first sample shows it is current.
                in_rotation: AtomicBool::new(false),
                up: AtomicBool::new(false),
                lag_seconds: AtomicU64::new(f64::NAN.to_bits()),
                behind_since: Mutex::new(None),
                history: MinuteRing::default(),
            })
            .collect();
        Self {
            members,
            next: AtomicUsize::new(0),
            primary_reads: metrics::counter!("levee_db_reads_routed_total", "pool" => "primary"),
            interval,
            max_lag,
        }
    }

    pub fn members(&self) -> &[Replica] {
        &self.members
    }

    /// Each replica's name and whether the last sample reached it.
    pub fn reachability(&self) -> Vec<(String, bool)> {
        self.members
            .iter()
            .map(|r| (r.name.clone(), r.up.load(Ordering::Relaxed)))
            .collect()
    }

    /// Each replica's last sampled lag and whether it is in rotation (admin console).
    pub fn stats(&self) -> Vec<crate::stats::ReplicaStats> {
        self.members
            .iter()
            .map(|r| crate::stats::ReplicaStats {
                name: r.name.clone(),
                lag_seconds: Some(f64::from_bits(r.lag_seconds.load(Ordering::Relaxed)))
                    .filter(|lag| !lag.is_nan()),
                in_rotation: r.in_rotation.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Each replica's lag per minute, the last hour up to `now` (admin console).
    pub fn history(&self, now: SystemTime) -> Vec<ReplicaHistory> {
        let minutes = |r: &Replica| r.history.read(now).into_iter();
        self.members
            .iter()
            .map(|r| ReplicaHistory {
                name: r.name.clone(),
                minutes: minutes(r).map(LagMinute::from_counts).collect(),
            })
            .collect()
    }

    /// The next replica in rotation (with its index), or `None` when none is.
    pub fn pick(&self) -> Option<(usize, &Replica)> {
        let count = self.members.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count)
            .map(|offset| (start + offset) % count)
            .map(|index| (index, &self.members[index]))
            .find(|(_, r)| r.takes_reads())
    }

    /// Samples every replica once per `interval` until aborted.
    pub fn spawn_monitor(
        self: Arc<Self>,
        primary: DatabaseConnection,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                self.check(&primary).await;
            }
        })
    }

    /// One round: the primary's WAL position first, then each replica against it.
    pub async fn check(&self, primary: &DatabaseConnection) {
        let timeout = self.interval.max(Duration::from_secs(1));
        let primary_lsn = match tokio::time::timeout(timeout, primary_lsn(primary)).await {
            Ok(Ok(lsn)) => lsn,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot read the primary's WAL position; replica lag not sampled");
                return;
            }
            Err(_) => return,
        };
        for replica in &self.members {
            let sample = tokio::time::timeout(timeout, replica_lag(&replica.conn, primary_lsn))
                .await
                .map_err(|_| DbErr::Custom("timed out".into()))
                .and_then(|r| r);
            let lag = sample.map(|(bytes, since_replay)| replica.lag(bytes, since_replay));
            replica.record(lag, self.max_lag);
        }
    }
}

impl Replica {
    /// Whether reads may go here: the monitor finds it current and its breaker is not
    /// open (a half-open breaker admits one read as its probe).
    fn takes_reads(&self) -> bool {
        self.in_rotation.load(Ordering::Relaxed) && self.breaker.state() != State::Open
    }

    /// Exports `levee_db_replica_in_rotation` after the monitor or the breaker changed it.
    pub fn publish_rotation(&self) {
        metrics::gauge!("levee_db_replica_in_rotation", "replica" => self.name.clone())
            .set(f64::from(u8::from(self.takes_reads())));
    }

    /// Caught up: no lag, whatever the age of the last replayed transaction (an idle
    /// primary sends none). Behind: the smaller of the time since the last replayed
    /// transaction and the time since it was first seen behind.
    fn lag(&self, bytes: i64, since_replay: f64) -> Lag {
        let mut behind = self.behind_since.lock().unwrap_or_else(|e| e.into_inner());
        let seconds = if bytes <= 0 {
            *behind = None;
            0.0
        } else {
            let streak = behind.get_or_insert_with(Instant::now).elapsed();
            since_replay.min(streak.as_secs_f64()).max(0.0)
        };
        Lag {
            bytes: bytes.max(0),
            seconds,
        }
    }

    fn record(&self, sample: Result<Lag, DbErr>, max_lag: Duration) {
        let name = self.name.clone();
        let healthy = match &sample {
            Ok(lag) => {
                metrics::gauge!("levee_db_replica_lag_seconds", "replica" => name.clone())
                    .set(lag.seconds);
                metrics::gauge!("levee_db_replica_lag_bytes", "replica" => name.clone())
                    .set(lag.bytes as f64);
                lag.seconds <= max_lag.as_secs_f64()
            }
            Err(_) => false,
        };
        self.up.store(sample.is_ok(), Ordering::Relaxed);
        let lag = sample.as_ref().map_or(f64::NAN, |lag| lag.seconds);
        self.lag_seconds.store(lag.to_bits(), Ordering::Relaxed);
        metrics::gauge!("levee_db_replica_up", "replica" => name.clone())
            .set(f64::from(u8::from(sample.is_ok())));
        let micros = (lag.max(0.0) * 1e6) as u64;
        self.history
            .update(SystemTime::now(), |[samples, unreachable, out, max]| {
                samples.fetch_add(1, Ordering::Relaxed);
                unreachable.fetch_add(u64::from(sample.is_err()), Ordering::Relaxed);
                out.fetch_add(u64::from(!healthy), Ordering::Relaxed);
                max.fetch_max(micros, Ordering::Relaxed);
            });
        let was = self.in_rotation.swap(healthy, Ordering::Relaxed);
        self.publish_rotation();
        match (&sample, was, healthy) {
            (_, false, true) => tracing::info!(replica = %name, "replica in rotation"),
            (Ok(lag), true, false) => tracing::warn!(
                replica = %name,
                lag_seconds = lag.seconds,
                lag_bytes = lag.bytes,
                "replica lags too far; reads go elsewhere"
            ),
            (Err(e), true, false) => {
                tracing::warn!(replica = %name, error = %e, "replica unreachable; reads go elsewhere")
            }
            _ => {}
        }
    }
}

async fn primary_lsn(primary: &DatabaseConnection) -> Result<i64, DbErr> {
    let row = primary
        .query_one_raw(sea_orm::Statement::from_string(
            primary.get_database_backend(),
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS lsn",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("no WAL position".into()))?;
    row.try_get("", "lsn")
}

/// `(bytes behind the primary, seconds since the last replayed transaction)`. A server
/// that is not in recovery (e.g. the primary itself) is never behind.
async fn replica_lag(replica: &DatabaseConnection, primary_lsn: i64) -> Result<(i64, f64), DbErr> {
    let row = replica
        .query_one_raw(sea_orm::Statement::from_string(
            replica.get_database_backend(),
            "SELECT pg_is_in_recovery() AS recovering, \
             COALESCE(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'), 0)::bigint AS lsn, \
             COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)::float8 AS since_replay",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("no replay position".into()))?;
    if !row.try_get::<bool>("", "recovering")? {
        return Ok((0, 0.0));
    }
    let replayed: i64 = row.try_get("", "lsn")?;
    Ok((primary_lsn - replayed, row.try_get("", "since_replay")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reachability_follows_the_last_sample() {
        let replicas = Replicas::new(
            vec![("replica-1".into(), DatabaseConnection::default())],
            Duration::from_secs(1),
            Duration::from_secs(5),
            &BreakerConfig::default(),
        );
        assert_eq!(replicas.reachability(), [("replica-1".into(), false)]);
        let replica = &replicas.members()[0];
        let caught_up = Lag {
            bytes: 0,
            seconds: 0.0,
        };
        replica.record(Ok(caught_up), replicas.max_lag);
        assert_eq!(replicas.reachability(), [("replica-1".into(), true)]);
        replica.record(Err(DbErr::Custom("gone".into())), replicas.max_lag);
        assert_eq!(replicas.reachability(), [("replica-1".into(), false)]);
    }
}

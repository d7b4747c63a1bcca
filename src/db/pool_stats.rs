//! Connection-pool statistics, sampled per pool: connections open, idle and in use, the
//! configured maximum, and how long taking a connection takes right now — as gauges for
//! `/metrics`, and kept (sampled acquires, timeouts) for the admin console, which reads
//! the connection counts live from the same pool accessors.

use crate::stats::{AtomicHistogram, PoolStats};
use sea_orm::{DatabaseConnection, sqlx};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One pool with what its sampler recorded.
struct Pool {
    name: String,
    /// What it serves: `write`, `read`, or `write, read`.
    role: &'static str,
    conn: DatabaseConnection,
    acquire: AtomicHistogram,
    timeouts: AtomicU64,
}

/// The pools of one process.
pub(super) struct Pools(Vec<Pool>);

/// `(open, idle, max)` connections of a pool now.
struct Figures {
    size: u32,
    idle: u32,
    max: u32,
}

impl Pools {
    /// `pools`: (name, role, handle).
    pub fn new(pools: Vec<(String, &'static str, DatabaseConnection)>) -> Self {
        Self(
            pools
                .into_iter()
                .map(|(name, role, conn)| Pool {
                    name,
                    role,
                    conn,
                    acquire: AtomicHistogram::default(),
                    timeouts: AtomicU64::new(0),
                })
                .collect(),
        )
    }

    /// Samples every pool every `interval` until aborted.
    pub fn spawn(self: Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                for pool in &self.0 {
                    pool.sample().await;
                }
            }
        })
    }

    /// Each pool now, with its sampled acquires since start.
    pub fn stats(&self) -> Vec<PoolStats> {
        self.0
            .iter()
            .map(|pool| {
                let now = pool.figures();
                PoolStats {
                    name: pool.name.clone(),
                    role: pool.role.to_string(),
                    in_use: u64::from(now.size.saturating_sub(now.idle)),
                    idle: u64::from(now.idle),
                    max: u64::from(now.max),
                    acquire: pool.acquire.snapshot(),
                    timeouts: pool.timeouts.load(Ordering::Relaxed),
                }
            })
            .collect()
    }
}

fn figures_of<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> Figures {
    Figures {
        size: pool.size(),
        // Idle connections are counted apart from the size: never report more than open.
        idle: u32::try_from(pool.num_idle())
            .unwrap_or(u32::MAX)
            .min(pool.size()),
        max: pool.options().get_max_connections(),
    }
}

async fn timed_acquire<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> (Duration, bool) {
    let started = Instant::now();
    let timed_out = matches!(pool.acquire().await, Err(sqlx::Error::PoolTimedOut));
    (started.elapsed(), timed_out)
}

impl Pool {
    fn figures(&self) -> Figures {
        match self.conn.get_database_backend() {
            sea_orm::DbBackend::Postgres => figures_of(self.conn.get_postgres_connection_pool()),
            _ => figures_of(self.conn.get_sqlite_connection_pool()),
        }
    }

    async fn sample(&self) {
        let now = self.figures();
        let name = self.name.clone();
        let in_use = now.size.saturating_sub(now.idle);
        for (state, value) in [("idle", now.idle), ("in_use", in_use)] {
            metrics::gauge!("levee_db_pool_connections", "pool" => name.clone(), "state" => state)
                .set(f64::from(value));
        }
        metrics::gauge!("levee_db_pool_max_connections", "pool" => name.clone())
            .set(f64::from(now.max));
        // A sampled acquire: what a request asking for a connection now would wait. Only
        // when the pool is busy, so an idle pool is not kept open just for the sample.
        if now.size == 0 || now.idle > 0 {
            return;
        }
        let (waited, timed_out) = match self.conn.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                timed_acquire(self.conn.get_postgres_connection_pool()).await
            }
            _ => timed_acquire(self.conn.get_sqlite_connection_pool()).await,
        };
        if timed_out {
            self.timeouts.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("levee_db_pool_sampled_timeouts_total", "pool" => name.clone())
                .increment(1);
        }
        self.acquire.record(waited);
        metrics::histogram!("levee_db_pool_acquire_seconds", "pool" => name)
            .record(waited.as_secs_f64());
    }
}

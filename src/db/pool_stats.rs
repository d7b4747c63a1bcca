//! Connection-pool statistics as gauges, sampled per pool: connections open, idle and in
//! use, the configured maximum, and how long taking a connection takes right now.

use sea_orm::{DatabaseConnection, sqlx};
use std::time::{Duration, Instant};

/// Samples `pools` (name, handle) every `interval` until aborted.
pub(super) fn spawn(
    pools: Vec<(String, DatabaseConnection)>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            for (name, conn) in &pools {
                sample(name, conn).await;
            }
        }
    })
}

async fn sample(name: &str, conn: &DatabaseConnection) {
    match conn.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            sample_pool(name, conn.get_postgres_connection_pool()).await
        }
        _ => sample_pool(name, conn.get_sqlite_connection_pool()).await,
    }
}

async fn sample_pool<DB: sqlx::Database>(name: &str, pool: &sqlx::Pool<DB>) {
    let (size, idle) = (pool.size(), pool.num_idle() as f64);
    let in_use = (f64::from(size) - idle).max(0.0);
    for (state, value) in [("idle", idle), ("in_use", in_use)] {
        metrics::gauge!("levee_db_pool_connections", "pool" => name.to_string(), "state" => state)
            .set(value);
    }
    metrics::gauge!("levee_db_pool_max_connections", "pool" => name.to_string())
        .set(f64::from(pool.options().get_max_connections()));
    // A sampled acquire: what a request asking for a connection now would wait. Only when
    // the pool is busy, so an idle pool is not kept open just for the sample.
    if size > 0 && idle == 0.0 {
        let started = Instant::now();
        if let Err(sqlx::Error::PoolTimedOut) = pool.acquire().await {
            metrics::counter!("levee_db_pool_sampled_timeouts_total", "pool" => name.to_string())
                .increment(1);
        }
        metrics::histogram!("levee_db_pool_acquire_seconds", "pool" => name.to_string())
            .record(started.elapsed().as_secs_f64());
    }
}

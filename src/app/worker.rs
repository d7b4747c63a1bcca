//! The `levee worker` process: job workers without the public API, publishing its
//! statistics for the console's fleet view like `serve` does. With `metrics.listen`
//! set it also serves `/health` and `/metrics` there, for probes and scrapers.

use super::{
    AppError, JobDeps, Tasks, bind, job_registry, open_cache, open_redis, spawn_feed_poller,
    start_side_listener, start_workers,
};
use crate::admin::fleet::{Fleet, process_snapshot};
use crate::config::Config;
use crate::db::{Db, migrate};
use crate::jobs::JobQueue;
use crate::providers::Providers;
use poem::web::Json;
use poem::{Route, handler};
use std::future::Future;
use std::time::{Duration, Instant};

/// How long probe requests get to finish at shutdown.
const PROBE_GRACE: Duration = Duration::from_secs(1);

#[handler]
fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok", "role": "worker"}))
}

/// Prometheus upkeep every few seconds (the server's upkeep does more).
async fn metrics_upkeep() {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        crate::telemetry::metrics_handle().run_upkeep();
    }
}

/// Publishes this worker's snapshot every `admin.publish_interval`, until aborted.
async fn publish_stats(fleet: Fleet, db: Db, providers: Providers) {
    let (instance, started) = (crate::stats::Instance::current("worker"), Instant::now());
    fleet
        .publish_every(|| process_snapshot(&db, &providers, &instance, started.elapsed()))
        .await;
}

/// Works the configured queues until `shutdown`, then drains: running jobs get
/// `jobs.shutdown_timeout`, the rest return to the queue.
pub async fn run_worker(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), AppError> {
    super::start_metrics();
    let db = Db::connect(&config.database).await?;
    migrate::check(&db).await?;
    let redis = open_redis(&config)?;
    // Enqueues elsewhere in the fleet wake these workers (Redis, else PostgreSQL NOTIFY);
    // on SQLite they find new jobs by polling every `jobs.poll_interval`.
    let queue = JobQueue::new(redis.clone(), &db);
    // The cache only to invalidate: with Redis that reaches every `serve` of the fleet,
    // without it through the database (`cache::Feed`).
    let deps = JobDeps {
        queue: queue.clone(),
        cache: open_cache(&config, &db, redis.clone(), None).await,
        providers: Providers::new(&config.providers, &config.resilience)?,
    };
    let registry = job_registry(&config, &deps)?;
    let mut tasks = Tasks::default();
    if let Some(addr) = config.metrics.listen {
        let listener = bind(addr).await?;
        if let Ok(bound) = listener.local_addr() {
            tracing::info!(addr = %bound, "worker probes listening");
        }
        let routes = Route::new()
            .at("/health", health)
            .at("/metrics", crate::http::system::metrics_endpoint(&config));
        start_side_listener(&mut tasks, "probe listener", listener, routes, PROBE_GRACE)?;
    }
    tasks.spawn_loop("metrics upkeep", metrics_upkeep());
    spawn_feed_poller(&mut tasks, &deps.cache);
    let fleet = Fleet::new(&db, redis.as_ref(), &config.admin);
    tasks.spawn_loop(
        "fleet statistics publisher",
        publish_stats(fleet, db.clone(), deps.providers.clone()),
    );
    let stopper = tasks.stopper();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutdown requested; draining running jobs");
        stopper.stop();
    });
    start_workers(&mut tasks, &db, registry, config.jobs.clone(), &queue);
    tasks.signal().stopped().await;
    tasks.stop().await;
    db.close().await;
    tracing::info!("worker stopped");
    Ok(())
}

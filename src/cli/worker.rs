//! `levee worker`: background jobs without the public API. With `metrics.listen` set it
//! also serves `/health` and `/metrics` there, for probes and scrapers.

use super::{CliError, connect, shutdown_signal};
use crate::config::{Config, ConfigError};
use crate::db::migrate;
use crate::http::system::{ScrapeToken, metrics};
use crate::jobs::{JobQueue, Workers, builtin_registry};
use crate::redis_conn::RedisConn;
use poem::web::Json;
use poem::{EndpointExt, Route, Server, handler};
use std::time::Duration;
use tokio::sync::watch;

/// Works the configured queues until SIGTERM/SIGINT, then drains: running jobs get
/// `jobs.shutdown_timeout`, the rest return to the queue.
pub async fn run(config: Config) -> Result<(), CliError> {
    let _logs = crate::telemetry::init_logging(&config.log);
    let db = connect(&config).await?;
    migrate::check(&db).await.map_err(CliError::runtime)?;
    let redis = match &config.redis.url {
        Some(url) => Some(
            RedisConn::open(&config.redis, url)
                .map_err(|e| ConfigError::key("redis.url", e.to_string()))?,
        ),
        None => None,
    };
    // Enqueues elsewhere in the fleet wake these workers (Redis, else PostgreSQL NOTIFY);
    // on SQLite they find new jobs by polling every `jobs.poll_interval`.
    let queue = JobQueue::new(redis, &db);
    let wake_listener = queue.spawn_wake_listener();
    let (stop_tx, stop_rx) = watch::channel(false);
    let probe_listener = match config.metrics.listen {
        Some(addr) => Some(serve_probes(addr, &config, stop_rx.clone()).await?),
        None => None,
    };
    let upkeep = tokio::spawn(async {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            crate::telemetry::metrics_handle().run_upkeep();
        }
    });
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested; draining running jobs");
        let _ = stop_tx.send(true);
    });
    let registry = builtin_registry(&config).map_err(CliError::runtime)?;
    let workers = Workers::new(
        db.clone(),
        registry,
        config.jobs.clone(),
        queue.wake_signal(),
    );
    workers.run(stop_rx).await;
    upkeep.abort();
    if let Some(listener) = wake_listener {
        listener.abort();
    }
    if let Some(probes) = probe_listener {
        let _ = probes.await;
    }
    db.close().await;
    tracing::info!("worker stopped");
    Ok(())
}

#[handler]
fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok", "role": "worker"}))
}

/// `/health` and `/metrics` on `addr` until `stop` turns true.
async fn serve_probes(
    addr: std::net::SocketAddr,
    config: &Config,
    mut stop: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, CliError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| ConfigError::key("metrics.listen", format!("cannot listen on {addr}: {e}")))?;
    let bound = listener.local_addr().map_err(CliError::runtime)?;
    let app = Route::new()
        .at("/health", health)
        .at("/metrics", metrics.data(ScrapeToken::new(&config.metrics)));
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).map_err(CliError::runtime)?;
    tracing::info!(addr = %bound, "worker probes listening");
    Ok(tokio::spawn(async move {
        let stopped = async move {
            let _ = stop.wait_for(|stop| *stop).await;
        };
        let _ = Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(app, stopped, Some(Duration::from_secs(1)))
            .await;
    }))
}

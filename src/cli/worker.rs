//! `levee worker`: background jobs without the public API.

use super::{CliError, connect, shutdown_signal};
use crate::config::Config;
use crate::db::migrate;
use crate::jobs::{JobQueue, Workers, builtin_registry};

/// Works the configured queues until SIGTERM/SIGINT, then drains: running jobs get
/// `jobs.shutdown_timeout`, the rest return to the queue.
pub async fn run(config: Config) -> Result<(), CliError> {
    let _logs = crate::telemetry::init_logging(&config.log);
    let db = connect(&config).await?;
    migrate::check(&db).await.map_err(CliError::runtime)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested; draining running jobs");
        let _ = stop_tx.send(true);
    });
    // Wake-ups from enqueues come only from this process; others are found by polling.
    let registry = builtin_registry(&config).map_err(CliError::runtime)?;
    let workers = Workers::new(
        db.clone(),
        registry,
        config.jobs.clone(),
        JobQueue::default().wake_signal(),
    );
    workers.run(stop_rx).await;
    db.close().await;
    tracing::info!("worker stopped");
    Ok(())
}

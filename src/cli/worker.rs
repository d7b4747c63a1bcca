//! `levee worker`: background work without the public API.

use super::{CliError, connect, shutdown_signal};
use crate::config::Config;
use crate::db::migrate;

/// Checks the database and schema, then runs until SIGTERM. Job processing attaches here
/// (see the jobs issue); until then a worker only proves it can reach its database.
pub async fn run(config: Config) -> Result<(), CliError> {
    let _logs = crate::telemetry::init_logging(&config.log);
    let db = connect(&config).await?;
    migrate::check(&db).await.map_err(CliError::runtime)?;
    tracing::info!(backend = ?db.backend(), "worker started; no job kinds are registered yet");
    shutdown_signal().await;
    db.close().await;
    tracing::info!("worker stopped");
    Ok(())
}

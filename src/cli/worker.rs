//! `levee worker`: background jobs without the public API (see `app::run_worker`).

use super::{CliError, shutdown_signal};
use crate::config::Config;

/// Works the configured queues until SIGTERM/SIGINT, then drains.
pub async fn run(config: Config) -> Result<(), CliError> {
    let _logs = crate::telemetry::init_logging(&config.log);
    crate::app::run_worker(config, shutdown_signal()).await?;
    Ok(())
}

//! `levee serve`: the HTTP API.

use super::{CliError, describe_source, shutdown_signal};
use crate::app::Application;
use crate::config::{Config, ConfigSource, redacted_toml};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Print the effective configuration (secrets redacted) and exit.
    #[arg(long)]
    print_config: bool,
}

pub async fn run(config: Config, source: ConfigSource, args: ServeArgs) -> Result<(), CliError> {
    if args.print_config {
        println!(
            "# effective configuration (from {})\n{}",
            describe_source(&source),
            redacted_toml(&config)
        );
        return Ok(());
    }
    let _logs = crate::telemetry::init_logging(&config.log);
    let app = Application::build(config).await?;
    tracing::info!(
        addr = %app.local_addr(),
        config = %describe_source(&source),
        backend = ?app.state().db().backend(),
        "levee is serving"
    );
    if !crate::users::exists_with_role(&app.state().db().read(), crate::users::Role::Admin)
        .await
        .unwrap_or(true)
    {
        tracing::warn!(
            "no admin account exists yet; create one with `levee user create --email you@example.com --role admin`"
        );
    }
    app.run_until_stopped(shutdown_signal()).await?;
    Ok(())
}

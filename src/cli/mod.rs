//! The `levee` command line: one subcommand per file. Errors print one plain line and
//! exit non-zero: 2 for bad configuration or usage, 1 for failures at run time.

mod backup;
mod health;
mod jobs;
mod migrate;
mod seed;
mod serve;
mod user;
mod worker;

use crate::config::{self, Config, ConfigError, ConfigSource};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "levee",
    version = crate::build_info::VERSION,
    about = "A single-binary backend for sites that must survive traffic surges",
    long_about = "levee serves a storefront and content API with its own connection pools, cache, \
                  rate limits, background jobs and admin console. With no configuration it runs on \
                  SQLite in ./data; point it at PostgreSQL and Redis to run a fleet."
)]
pub struct Cli {
    /// Config file (TOML). Default: $LEVEE_CONFIG, else ./levee.toml, else built-in defaults.
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API (and apply pending migrations when database.auto_migrate is on).
    Serve(serve::ServeArgs),
    /// Run background workers only, without the public API.
    Worker,
    /// Inspect or change the database schema.
    Migrate(migrate::MigrateArgs),
    /// Check a running levee's readiness; exits 0 when ready, 1 otherwise.
    Health(health::HealthArgs),
    /// Create accounts (e.g. the first admin) and reset passwords.
    User(user::UserArgs),
    /// Operate the job queue (benchmark it, enqueue a probe).
    Jobs(jobs::JobsArgs),
    /// Fill the database with demo posts, products and customers (idempotent).
    Seed(seed::SeedArgs),
    /// Copy the embedded SQLite database to a file, safely while levee runs.
    Backup(backup::BackupArgs),
    /// Replace the embedded SQLite database with a backup (levee must be stopped).
    Restore(backup::RestoreArgs),
}

/// A failure the CLI reports as one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Bad input found after loading the config (e.g. unreadable TLS files).
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Runtime(String),
}

impl CliError {
    pub fn runtime(err: impl std::fmt::Display) -> Self {
        CliError::Runtime(err.to_string())
    }

    fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Config(_) | CliError::Invalid(_) => ExitCode::from(2),
            CliError::Runtime(_) => ExitCode::from(1),
        }
    }
}

impl From<crate::app::AppError> for CliError {
    fn from(err: crate::app::AppError) -> Self {
        match err {
            crate::app::AppError::Tls(e) => {
                CliError::Config(ConfigError::key("server.tls", e.to_string()))
            }
            crate::app::AppError::Redis(e) => {
                CliError::Config(ConfigError::key("redis.url", e.to_string()))
            }
            other => CliError::runtime(other),
        }
    }
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::runtime)
        .and_then(|rt| rt.block_on(dispatch(cli)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("levee: {err}");
            err.exit_code()
        }
    }
}

async fn dispatch(cli: Cli) -> Result<(), CliError> {
    let (config, source) = config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve(args) => serve::run(config, source, args).await,
        Command::Worker => worker::run(config).await,
        Command::Migrate(args) => migrate::run(config, args).await,
        Command::Health(args) => health::run(&config, args).await,
        Command::User(args) => user::run(config, args).await,
        Command::Seed(args) => seed::run(config, args).await,
        Command::Jobs(args) => jobs::run(config, args).await,
        Command::Backup(args) => backup::backup(config, args).await,
        Command::Restore(args) => backup::restore(config, args).await,
    }
}

/// Resolves when the process receives SIGTERM or SIGINT.
pub(crate) async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

fn describe_source(source: &ConfigSource) -> String {
    match source {
        ConfigSource::File(path) => path.display().to_string(),
        ConfigSource::Defaults => "built-in defaults".into(),
    }
}

/// Connects to the configured database, for subcommands that need only that.
async fn connect(config: &Config) -> Result<crate::db::Db, CliError> {
    crate::db::Db::connect(&config.database)
        .await
        .map_err(CliError::runtime)
}

//! `levee jobs …`: operating the job queue from the command line.

use super::{CliError, connect};
use crate::config::Config;
use crate::db::migrate;
use crate::jobs::diagnostics::bench::{self, BenchPlan};

#[derive(Debug, clap::Args)]
pub struct JobsArgs {
    #[command(subcommand)]
    command: JobsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum JobsCommand {
    /// Measure throughput (no-op jobs/s) and pickup latency against the configured
    /// database, on a private queue; prints JSON.
    Bench {
        /// Jobs to run for the throughput figure.
        #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
        jobs: u32,
        /// Jobs running at once.
        #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1000))]
        concurrency: u32,
        /// Single jobs timed from enqueue to start on idle workers.
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(0..=100_000))]
        latency_samples: u32,
    },
}

pub async fn run(config: Config, args: JobsArgs) -> Result<(), CliError> {
    let db = connect(&config).await?;
    let outcome = match args.command {
        JobsCommand::Bench {
            jobs,
            concurrency,
            latency_samples,
        } => {
            let plan = BenchPlan {
                jobs: jobs as usize,
                concurrency,
                latency_samples: latency_samples as usize,
            };
            run_bench(&config, &db, &plan).await
        }
    };
    db.close().await;
    outcome
}

async fn run_bench(config: &Config, db: &crate::db::Db, plan: &BenchPlan) -> Result<(), CliError> {
    migrate::check(db).await.map_err(CliError::runtime)?;
    let report = bench::run(db, config, plan)
        .await
        .map_err(CliError::runtime)?;
    let json = serde_json::to_string_pretty(&report).map_err(CliError::runtime)?;
    println!("{json}");
    Ok(())
}

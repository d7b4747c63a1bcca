//! `levee jobs …`: operating the job queue from the command line.

use super::{CliError, connect};
use crate::config::Config;
use crate::db::migrate;
use crate::jobs::diagnostics::bench::{self, BenchPlan};
use crate::jobs::{Enqueue, JobQueue, Probe};
use std::time::Duration;

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
        /// Jobs claimed ahead per slot (`jobs.local_queue`; 0 turns the local queue off);
        /// the config's when absent.
        #[arg(long, value_parser = clap::value_parser!(u32).range(0..=100))]
        local_queue: Option<u32>,
        /// Single jobs timed from enqueue to start on idle workers.
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(0..=100_000))]
        latency_samples: u32,
    },
    /// Enqueue a `jobs.probe` that fails every attempt until DURATION after now, then
    /// succeeds: a dead job to practise retries on. Prints the job id.
    Probe {
        /// How long attempts fail, e.g. `5s`.
        #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
        fail_for: Duration,
        /// Attempts before the job is dead.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=100))]
        max_attempts: i32,
    },
}

pub async fn run(config: Config, args: JobsArgs) -> Result<(), CliError> {
    let db = connect(&config).await?;
    let outcome = match args.command {
        JobsCommand::Bench {
            jobs,
            concurrency,
            local_queue,
            latency_samples,
        } => {
            let plan = BenchPlan {
                jobs: jobs as usize,
                concurrency,
                local_queue,
                latency_samples: latency_samples as usize,
            };
            run_bench(&config, &db, &plan).await
        }
        JobsCommand::Probe {
            fail_for,
            max_attempts,
        } => run_probe(&db, fail_for, max_attempts).await,
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

async fn run_probe(
    db: &crate::db::Db,
    fail_for: Duration,
    max_attempts: i32,
) -> Result<(), CliError> {
    migrate::check(db).await.map_err(CliError::runtime)?;
    let until = chrono::Duration::from_std(fail_for)
        .ok()
        .and_then(|d| chrono::Utc::now().checked_add_signed(d))
        .ok_or_else(|| CliError::Invalid("--fail-for is too long".into()))?;
    // Rounded up: the probe must not succeed before the whole duration has passed.
    let probe = Probe {
        fail_until: Some(until.timestamp() + i64::from(until.timestamp_subsec_nanos() > 0)),
        ..Probe::default()
    };
    let options = Enqueue {
        max_attempts: Some(max_attempts),
        ..Enqueue::default()
    };
    // PostgreSQL's NOTIFY wakes the workers of a running fleet at once; elsewhere they
    // find the job within `jobs.poll_interval`.
    let job = JobQueue::new(None, db)
        .enqueue(db.write(), &probe, options)
        .await
        .map_err(CliError::runtime)?;
    println!("{}", job.id);
    Ok(())
}

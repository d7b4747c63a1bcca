//! `levee jobs bench`: throughput and pickup latency of this deployment's queue, measured
//! with the real worker runtime against the configured database on a queue of its own.

use super::Probe;
use crate::config::{Config, IntIn, JobsConfig};
use crate::db::Db;
use crate::jobs::{Enqueue, JobQueue, Outcome, Workers, builtin_registry};
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

const QUEUE: &str = "levee-bench";
/// Jobs per enqueue transaction while filling the queue (not measured).
const FILL_BATCH: usize = 1000;

#[derive(Debug, Clone)]
pub struct BenchPlan {
    pub jobs: usize,
    pub concurrency: u32,
    /// `jobs.local_queue` for the run (jobs claimed ahead per slot); the config's when absent.
    pub local_queue: Option<u32>,
    pub latency_samples: usize,
}

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub backend: String,
    pub jobs: usize,
    pub concurrency: u32,
    /// Jobs claimed ahead per slot (`jobs.local_queue`); 0 when off.
    pub local_queue: u64,
    pub seconds: f64,
    pub jobs_per_second: f64,
    /// Enqueue call (an autocommit insert) → handler start, one job at a time on idle
    /// workers in this process.
    pub pickup_latency_ms: Latency,
}

#[derive(Debug, Serialize)]
pub struct Latency {
    pub samples: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

/// Fills the bench queue with no-op probes, times how fast the workers empty it, then
/// samples pickup latency one job at a time. Leaves no jobs behind.
pub async fn run(db: &Db, config: &Config, plan: &BenchPlan) -> Result<BenchReport, DbErr> {
    clear(db).await?;
    let result = measure(db, config, plan).await;
    clear(db).await?;
    result
}

async fn measure(db: &Db, config: &Config, plan: &BenchPlan) -> Result<BenchReport, DbErr> {
    let options = || Enqueue {
        queue: Some(QUEUE.into()),
        ..Enqueue::default()
    };
    let queue = JobQueue::default();
    for chunk in (0..plan.jobs).collect::<Vec<_>>().chunks(FILL_BATCH) {
        let txn = db.begin_write().await?;
        for _ in chunk {
            queue.enqueue(&txn, &Probe::default(), options()).await?;
        }
        txn.commit().await?;
    }

    let (started_tx, mut started_rx) = mpsc::unbounded_channel();
    let runs = Arc::new(AtomicUsize::new(0));
    let mut registry = builtin_registry(&config.jobs);
    let counted = runs.clone();
    registry.register::<Probe, _, _>(move |_, ctx| {
        counted.fetch_add(1, Ordering::Relaxed);
        let _ = started_tx.send((ctx.id, Instant::now()));
        async { Outcome::Done }
    });
    let local_queue = plan
        .local_queue
        .map_or(config.jobs.local_queue, |n| IntIn::new(n.into()));
    let workers = Workers::new(
        db.clone(),
        registry,
        JobsConfig {
            queues: BTreeMap::from([(QUEUE.to_string(), IntIn::new(plan.concurrency.into()))]),
            cron: Vec::new(),
            local_queue,
            ..config.jobs.clone()
        },
        queue.wake_signal(),
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let began = Instant::now();
    let running = tokio::spawn(workers.run(stop_rx));
    // Counted in process until every handler ran, then in the database (a count over the
    // queue's rows every few milliseconds would compete with the workers for it) until every
    // completion is written.
    while runs.load(Ordering::Relaxed) < plan.jobs {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    while completed(db).await? < plan.jobs as i64 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let seconds = began.elapsed().as_secs_f64();
    while started_rx.try_recv().is_ok() {}

    let mut latencies = Vec::with_capacity(plan.latency_samples);
    for _ in 0..plan.latency_samples {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let enqueued = Instant::now();
        let job = queue
            .enqueue(db.write(), &Probe::default(), options())
            .await?;
        let Some((id, started)) = started_rx.recv().await else {
            break;
        };
        debug_assert_eq!(id, job.id);
        latencies.push(started.saturating_duration_since(enqueued).as_secs_f64() * 1000.0);
    }
    let _ = stop_tx.send(true);
    let _ = running.await;
    Ok(BenchReport {
        backend: format!("{:?}", db.backend()).to_lowercase(),
        jobs: plan.jobs,
        concurrency: plan.concurrency,
        local_queue: local_queue.get(),
        seconds,
        jobs_per_second: plan.jobs as f64 / seconds,
        pickup_latency_ms: Latency::of(latencies),
    })
}

async fn completed(db: &Db) -> Result<i64, DbErr> {
    let count = db.statement(
        "SELECT COUNT(*) AS n FROM jobs WHERE queue = $1 AND state = 'completed'",
        vec![QUEUE.into()],
    );
    let row = db.write().query_one_raw(count).await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}

async fn clear(db: &Db) -> Result<(), DbErr> {
    let delete = db.statement("DELETE FROM jobs WHERE queue = $1", vec![QUEUE.into()]);
    let txn = db.begin_write().await?;
    txn.execute_raw(delete).await?;
    txn.commit().await
}

impl Latency {
    fn of(mut samples: Vec<f64>) -> Self {
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let index = ((samples.len() as f64 * q).ceil() as usize).saturating_sub(1);
            samples.get(index).copied().unwrap_or(0.0)
        };
        Latency {
            samples: samples.len(),
            p50: at(0.50),
            p99: at(0.99),
            max: samples.last().copied().unwrap_or(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Latency;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let latency = Latency::of((1..=100).rev().map(f64::from).collect());
        assert_eq!((latency.p50, latency.p99, latency.max), (50.0, 99.0, 100.0));
        assert_eq!(Latency::of(Vec::new()).p99, 0.0);
    }
}

//! The worker runtime: per queue, claim as many due jobs as there are free slots, run each
//! in its own task (a panic counts as a failure), renew leases while they run, rescue jobs
//! whose worker died, and on shutdown stop claiming, let running jobs finish for a while and
//! put the rest back in the queue.

use super::entity::{JobState, Model};
use super::registry::{JobContext, Outcome, Registry};
use super::store;
use crate::config::JobsConfig;
use crate::db::Db;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinSet;

pub struct Workers {
    db: Db,
    registry: Registry,
    config: JobsConfig,
    owner: Arc<str>,
    wake: Arc<Notify>,
    running: Arc<Mutex<HashSet<uuid::Uuid>>>,
    completions: mpsc::UnboundedSender<Completion>,
    /// Taken by `run`, which hands it to the completer.
    pending_completions: Option<mpsc::UnboundedReceiver<Completion>>,
}

/// A finished run waiting to be marked completed; told whether it was.
type Completion = (uuid::Uuid, oneshot::Sender<Result<bool, String>>);

impl Workers {
    pub fn new(db: Db, registry: Registry, config: JobsConfig, wake: Arc<Notify>) -> Self {
        let owner = format!("{}:{}", hostname(), uuid::Uuid::new_v4().simple()).into();
        let (completions, pending) = mpsc::unbounded_channel();
        Self {
            db,
            registry,
            config,
            owner,
            wake,
            running: Arc::default(),
            completions,
            pending_completions: Some(pending),
        }
    }

    /// Runs every configured queue until `stop` turns true, then drains.
    pub async fn run(mut self, stop: watch::Receiver<bool>) {
        let pending = self.pending_completions.take();
        let this = Arc::new(self);
        for (kind, queue) in this.registry.queues() {
            if !this.config.queues.contains_key(queue) {
                tracing::warn!(
                    job.kind = kind,
                    queue,
                    "no worker in this process works this kind's queue; add it to [jobs.queues] or run a worker that does"
                );
            }
        }
        let mut tasks = JoinSet::new();
        for (queue, concurrency) in &this.config.queues {
            tasks.spawn(this.clone().run_queue(
                queue.clone(),
                concurrency.get() as usize,
                stop.clone(),
            ));
        }
        tasks.spawn(this.clone().maintain(stop.clone()));
        tasks.spawn(this.clone().schedule(stop.clone()));
        // Every run waits for its completion to be recorded, so once the queues have
        // drained nothing is left in the channel and the completer can stop.
        let completer = pending.map(|pending| tokio::spawn(this.clone().complete(pending)));
        tracing::info!(owner = %this.owner, queues = ?this.config.queues.keys().collect::<Vec<_>>(), "job workers started");
        while tasks.join_next().await.is_some() {}
        if let Some(completer) = completer {
            completer.abort();
        }
        tracing::info!("job workers stopped");
    }

    /// Records completions in batches: whatever finished while the previous batch was
    /// being written goes in the next statement, so a busy worker commits once per batch
    /// and an idle one at once.
    async fn complete(self: Arc<Self>, mut pending: mpsc::UnboundedReceiver<Completion>) {
        const MAX_BATCH: usize = 500;
        // A few batches in flight at once, so one slow commit does not stall the rest.
        let in_flight = Arc::new(Semaphore::new(4));
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let Ok(permit) = in_flight.clone().acquire_owned().await else {
                return;
            };
            let this = self.clone();
            let batch = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
            tokio::spawn(async move {
                let ids: Vec<uuid::Uuid> = batch.iter().map(|(id, _)| *id).collect();
                let outcome = store::complete_many(&this.db, &ids, &this.owner).await;
                for (id, done) in batch {
                    let _ = done.send(match &outcome {
                        Ok(completed) => Ok(completed.contains(&id)),
                        Err(e) => Err(e.to_string()),
                    });
                }
                drop(permit);
            });
        }
    }

    async fn run_queue(
        self: Arc<Self>,
        queue: String,
        concurrency: usize,
        mut stop: watch::Receiver<bool>,
    ) {
        let slots = Arc::new(Semaphore::new(concurrency));
        let mut running: JoinSet<()> = JoinSet::new();
        let mut claimed_jobs: Vec<(tokio::task::AbortHandle, Model)> = Vec::new();
        while !*stop.borrow() {
            let free = slots.available_permits();
            let mut claimed = 0;
            if free > 0 {
                match store::claim(&self.db, &queue, &self.owner, self.config.lease.get(), free)
                    .await
                {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        for job in jobs {
                            let Ok(slot) = slots.clone().acquire_owned().await else {
                                break;
                            };
                            self.running
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(job.id);
                            let this = self.clone();
                            let handle = running.spawn({
                                let job = job.clone();
                                async move {
                                    this.execute(job).await;
                                    drop(slot);
                                }
                            });
                            claimed_jobs.push((handle, job));
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, queue = %queue, "claiming jobs failed"),
                }
            }
            claimed_jobs.retain(|(handle, _)| !handle.is_finished());
            if claimed > 0 && claimed == free {
                continue;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.config.poll_interval.get()) => {}
                _ = stop.changed() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
        self.drain(&queue, running, claimed_jobs).await;
    }

    /// Shutdown: running jobs get `jobs.shutdown_timeout`; the rest return to the queue.
    async fn drain(
        &self,
        queue: &str,
        mut running: JoinSet<()>,
        claimed: Vec<(tokio::task::AbortHandle, Model)>,
    ) {
        let deadline = Instant::now() + self.config.shutdown_timeout.get();
        while !running.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if tokio::time::timeout(left, running.join_next())
                .await
                .is_err()
            {
                break;
            }
        }
        running.abort_all();
        for (handle, job) in claimed {
            if !handle.is_finished()
                || self
                    .running
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .contains(&job.id)
            {
                match store::requeue(&self.db, &job, &self.owner, Duration::ZERO).await {
                    Ok(true) => {
                        tracing::info!(job.id = %job.id, queue, "unfinished job returned to the queue")
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::error!(error = %e, job.id = %job.id, "could not return a job; its lease will expire and rescue it")
                    }
                }
            }
        }
    }

    async fn execute(&self, job: Model) {
        let started = Instant::now();
        let span = tracing::info_span!("job", job.id = %job.id, job.kind = %job.kind, job.queue = %job.queue, job.attempt = job.attempt);
        let outcome = match self.registry.get(&job.kind) {
            None => Outcome::Fail(format!("no handler for job kind {:?}", job.kind)),
            Some(handler) => {
                let payload = serde_json::from_str(&job.payload).unwrap_or_default();
                let ctx = JobContext {
                    id: job.id,
                    attempt: job.attempt,
                    db: self.db.clone(),
                    worker: self.owner.clone(),
                };
                // Its own task, so a panic is caught and counted as a failure.
                match tokio::spawn(tracing::Instrument::instrument(
                    handler(payload, ctx),
                    span.clone(),
                ))
                .await
                {
                    Ok(outcome) => outcome,
                    Err(e) if e.is_panic() => Outcome::Retry("the handler panicked".into()),
                    Err(e) => Outcome::Retry(format!("the handler was cancelled: {e}")),
                }
            }
        };
        let elapsed = started.elapsed().as_secs_f64();
        metrics::histogram!("levee_job_duration_seconds", "queue" => job.queue.clone(), "kind" => job.kind.clone()).record(elapsed);
        let result = self.record(&job, outcome).await;
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&job.id);
        match result {
            Ok(label) => {
                metrics::counter!("levee_jobs_processed_total", "queue" => job.queue.clone(), "kind" => job.kind.clone(), "outcome" => label).increment(1);
                // Completions are the bulk (thousands a second under load): debug; the
                // rest (retries, dead jobs, snoozes) stay visible at info.
                let duration_ms = elapsed * 1000.0;
                span.in_scope(|| match label {
                    "completed" => tracing::debug!(outcome = label, duration_ms, "job finished"),
                    _ => tracing::info!(outcome = label, duration_ms, "job finished"),
                });
            }
            Err(e) => span.in_scope(|| tracing::error!(error = %e, "could not record the job's outcome; its lease will expire")),
        }
    }

    async fn record(&self, job: &Model, outcome: Outcome) -> Result<&'static str, sea_orm::DbErr> {
        let owner = &self.owner;
        Ok(match outcome {
            Outcome::Done => {
                let (done, recorded) = oneshot::channel();
                let _ = self.completions.send((job.id, done));
                recorded
                    .await
                    .map_err(|_| sea_orm::DbErr::Custom("the completer stopped".into()))?
                    .map_err(sea_orm::DbErr::Custom)?;
                "completed"
            }
            Outcome::Snooze(after) => {
                store::requeue(&self.db, job, owner, after).await?;
                "snoozed"
            }
            Outcome::Retry(error) => {
                self.failed(job, &error, self.backoff(job.attempt), false)
                    .await?
            }
            Outcome::RetryIn(after, error) => self.failed(job, &error, after, false).await?,
            Outcome::Fail(error) => self.failed(job, &error, Duration::ZERO, true).await?,
        })
    }

    async fn failed(
        &self,
        job: &Model,
        error: &str,
        retry_in: Duration,
        permanent: bool,
    ) -> Result<&'static str, sea_orm::DbErr> {
        let state = store::fail(&self.db, job, &self.owner, error, retry_in, permanent).await?;
        if state == JobState::Dead {
            tracing::warn!(job.id = %job.id, job.kind = %job.kind, error, "job is dead (dead-letter queue)");
        }
        Ok(if state == JobState::Dead {
            "dead"
        } else {
            "retried"
        })
    }

    /// `base × 2^(attempt-1)`, capped, then 50–100% of it (full jitter would allow ~0).
    fn backoff(&self, attempt: i32) -> Duration {
        let base = self.config.retry_base_delay.get();
        let exponential = base.saturating_mul(1u32 << attempt.clamp(1, 20).saturating_sub(1));
        let capped = exponential.min(self.config.retry_max_delay.get());
        let mut byte = [0u8; 1];
        let _ = getrandom::fill(&mut byte);
        capped.mul_f64(0.5 + f64::from(byte[0]) / 510.0)
    }

    /// Fires cron slots while this instance holds the scheduler lease; resigns on shutdown.
    async fn schedule(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let scheduler = super::cron::Scheduler::new(
            &self.config.cron,
            self.owner.to_string(),
            self.config.lease.get(),
        );
        let mut tick = tokio::time::interval(self.config.poll_interval.get());
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => break,
            }
            match scheduler.tick(&self.db).await {
                Ok(0) => {}
                Ok(_) => self.wake.notify_waiters(),
                Err(e) => tracing::warn!(error = %e, "the cron scheduler failed"),
            }
        }
        if let Err(e) = scheduler.resign(&self.db).await {
            tracing::warn!(error = %e, "could not hand over the cron lease");
        }
    }

    /// Renews the leases of running jobs and rescues jobs whose workers died.
    async fn maintain(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let lease = self.config.lease.get();
        let mut tick = tokio::time::interval(lease / 3);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            let ids: Vec<uuid::Uuid> = self
                .running
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .copied()
                .collect();
            if let Err(e) = store::heartbeat(&self.db, &self.owner, ids, lease).await {
                tracing::warn!(error = %e, "renewing job leases failed");
            }
            match store::depth(&self.db).await {
                Ok((counts, oldest)) => {
                    // States with no jobs have no row: report them as 0, not as their last value.
                    for queue in self.config.queues.keys() {
                        for state in ["available", "scheduled", "running", "retryable", "dead"] {
                            let jobs = counts
                                .iter()
                                .find(|(q, s, _)| q == queue && s == state)
                                .map_or(0, |c| c.2);
                            metrics::gauge!("levee_jobs_depth", "queue" => queue.clone(), "state" => state).set(jobs as f64);
                        }
                    }
                    for (queue, age) in oldest {
                        metrics::gauge!("levee_jobs_oldest_available_age_seconds", "queue" => queue).set(age);
                    }
                }
                Err(e) => tracing::debug!(error = %e, "measuring queue depth failed"),
            }
            match store::rescue_expired(&self.db).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(
                    jobs = n,
                    "rescued jobs whose worker stopped renewing its lease"
                ),
                Err(e) => tracing::warn!(error = %e, "rescuing expired jobs failed"),
            }
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "levee".into())
}

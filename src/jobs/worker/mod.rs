//! The worker runtime: per queue, claim as many due jobs as there are free slots, run each
//! in its own task (a panic counts as a failure), renew leases while they run, rescue jobs
//! whose worker died, and on shutdown stop claiming, let running jobs finish for a while,
//! abort the rest and put them back in the queue.

mod completer;
mod run;
mod upkeep;

use super::entity::Model;
use super::registry::Registry;
use super::store;
use crate::config::JobsConfig;
use crate::db::Db;
use crate::db::ids::JobId;
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
    running: Arc<Mutex<HashSet<JobId>>>,
    completions: mpsc::UnboundedSender<Completion>,
    /// Taken by `run`, which hands it to the completer.
    pending_completions: Option<mpsc::UnboundedReceiver<Completion>>,
}

/// A finished run waiting to be marked completed; told whether it was.
type Completion = (JobId, oneshot::Sender<Result<bool, String>>);

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

    /// The ids of the runs in progress here; a poisoned lock still holds a valid set.
    fn running_ids(&self) -> std::sync::MutexGuard<'_, HashSet<JobId>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
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

    async fn run_queue(
        self: Arc<Self>,
        queue: String,
        concurrency: usize,
        mut stop: watch::Receiver<bool>,
    ) {
        let kinds = self.registry.kinds();
        let slots = Arc::new(Semaphore::new(concurrency));
        let mut running: JoinSet<()> = JoinSet::new();
        let mut claimed_jobs: Vec<(tokio::task::AbortHandle, Model)> = Vec::new();
        while !*stop.borrow() {
            let free = slots.available_permits();
            let mut claimed = 0;
            if free > 0 {
                let lease = self.config.lease.get();
                match store::claim(&self.db, &queue, &kinds, &self.owner, lease, free).await {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        for job in jobs {
                            let Ok(slot) = slots.clone().acquire_owned().await else {
                                break;
                            };
                            self.running_ids().insert(job.id);
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

    /// Shutdown: running jobs get `jobs.shutdown_timeout`; the rest are aborted — their
    /// handlers stop at their next `.await` — and return to the queue at once, as not
    /// attempted (like a snooze), rather than waiting out their leases.
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
        // Each run's task owns its handler's future: once the task is joined, the handler
        // is dropped and can no longer write, so it is safe to hand its job to others.
        while running.join_next().await.is_some() {}
        // A run leaves `running_ids` once its outcome is recorded; the aborted ones did not.
        for (_, job) in claimed {
            if self.running_ids().contains(&job.id) {
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
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "levee".into())
}

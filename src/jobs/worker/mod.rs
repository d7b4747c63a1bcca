//! The worker runtime: per queue, a dispatcher keeps a bounded local queue of claimed jobs
//! (refilled by one claim statement in the background) and starts each in its own task as
//! a slot frees up (a panic counts as a failure); leases of running and prefetched jobs are
//! renewed in bulk, jobs whose worker died are rescued, and on shutdown the prefetched jobs
//! go back to the queue at once, running ones may finish for a while, the rest are aborted
//! and go back too.

mod completer;
mod dispatch;
mod run;
mod upkeep;

use super::registry::Registry;
use crate::config::JobsConfig;
use crate::db::Db;
use crate::db::ids::JobId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::JoinSet;

pub struct Workers {
    db: Db,
    registry: Registry,
    config: JobsConfig,
    owner: Arc<str>,
    wake: Arc<Notify>,
    /// Every job this process claimed and has not yet recorded an outcome for or given
    /// back: the leases it renews.
    held: Mutex<HashMap<JobId, Phase>>,
    completions: mpsc::UnboundedSender<Completion>,
    /// Taken by `run`, which hands it to the completer.
    pending_completions: Option<mpsc::UnboundedReceiver<Completion>>,
}

/// A finished run waiting to be marked completed; told whether it was.
type Completion = (JobId, oneshot::Sender<Result<bool, String>>);

/// Where a held job is: which ones a shutdown may give back depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Claimed ahead, waiting in the local queue.
    Queued,
    /// Its handler runs.
    Running,
    /// Its handler returned; the outcome is being written.
    Recording,
}

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
            held: Mutex::default(),
            completions,
            pending_completions: Some(pending),
        }
    }

    /// The jobs held here; a poisoned lock still holds a valid map.
    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<JobId, Phase>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
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
        // Leases are renewed until the queues have drained: a shutdown waiting for its
        // running jobs must not let them expire and be rescued meanwhile.
        let (drained, until_drained) = watch::channel(false);
        let maintain = tokio::spawn(this.clone().maintain(until_drained));
        let schedule = tokio::spawn(this.clone().schedule(stop.clone()));
        // Every run waits for its completion to be recorded, so once the queues have
        // drained nothing is left in the channel and the completer can stop.
        let completer = pending.map(|pending| tokio::spawn(this.clone().complete(pending)));
        tracing::info!(owner = %this.owner, queues = ?this.config.queues.keys().collect::<Vec<_>>(), "job workers started");
        while tasks.join_next().await.is_some() {}
        let _ = drained.send(true);
        let _ = tokio::join!(maintain, schedule);
        if let Some(completer) = completer {
            completer.abort();
        }
        tracing::info!("job workers stopped");
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "levee".into())
}

//! One queue's dispatcher. It keeps a bounded local queue of claimed jobs (`jobs.local_queue`
//! per slot), refilled by one claim statement in the background whenever it is half empty,
//! so a slot that frees up takes its next job from memory instead of waiting for a round
//! trip. Prefetched jobs hold leases like running ones (renewed with them); ones that waited
//! longer than `jobs.local_queue_max_age` go back so a later higher-priority job is not
//! starved. On shutdown the prefetched jobs go back at once, running ones get
//! `jobs.shutdown_timeout`, the rest are aborted and go back as not attempted.

use super::{Phase, Workers};
use crate::db::ids::JobId;
use crate::jobs::entity::Model;
use crate::jobs::store;
use sea_orm::DbErr;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::{AbortHandle, JoinSet};

/// Jobs claimed ahead per queue at most, whatever `concurrency × jobs.local_queue` says.
const MAX_AHEAD: usize = 2_000;

/// A slot of a queue's concurrency, held while a handler runs; freeing it wakes the
/// dispatcher. The outcome is written after, without holding the slot, in one of
/// `concurrency + ahead` places: completions are written in batches, and a queue working
/// through its local queue must not wait for each batch's commit. Jobs whose handler ran
/// but whose outcome was not written yet run again after a crash; the places bound them.
pub(super) struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    freed: Arc<Notify>,
    recording: Arc<Semaphore>,
}

impl Slot {
    /// Frees the slot once a place to write the outcome is free; holds that place.
    pub(super) async fn hand_over(self) -> Option<OwnedSemaphorePermit> {
        let place = self.recording.clone().acquire_owned().await.ok();
        drop(self);
        place
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        // The permit first: the dispatcher must find it free when it wakes.
        drop(self.permit.take());
        self.freed.notify_one();
    }
}

/// What a queue's dispatcher holds.
struct Dispatch {
    queue: String,
    /// Claimed ahead, in priority order, each with when it was claimed.
    local: VecDeque<(Instant, Model)>,
    ahead: usize,
    slots: Arc<Semaphore>,
    recording: Arc<Semaphore>,
    freed: Arc<Notify>,
    /// Runs (handler, then outcome); each answers its job's id.
    running: JoinSet<JobId>,
    /// The run of each started job that has not been joined yet.
    handles: HashMap<JobId, AbortHandle>,
}

type Claimed = (usize, Result<Vec<Model>, DbErr>);

impl Workers {
    pub(super) async fn run_queue(
        self: Arc<Self>,
        queue: String,
        concurrency: usize,
        mut stop: watch::Receiver<bool>,
    ) {
        let ahead = (concurrency * self.config.local_queue.get() as usize).min(MAX_AHEAD);
        let max_age = self.config.local_queue_max_age.get();
        let mut d = Dispatch {
            queue,
            local: VecDeque::with_capacity(ahead + concurrency),
            ahead,
            slots: Arc::new(Semaphore::new(concurrency)),
            recording: Arc::new(Semaphore::new(concurrency + ahead)),
            freed: Arc::default(),
            running: JoinSet::new(),
            handles: HashMap::new(),
        };
        let mut refill: JoinSet<Claimed> = JoinSet::new();
        // Whether the database may hold due jobs: false after a claim came back short,
        // until a wake-up or the next poll.
        let mut look = true;
        // Whether the last claim emptied the database's queue. Under a backlog the local
        // queue is refilled in batches, once half empty; once the backlog is gone, jobs
        // that arrive are claimed as they come.
        let mut drained = false;
        let mut poll = tokio::time::interval(self.config.poll_interval.get());
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut age_check = tokio::time::interval(max_age / 2);
        age_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !*stop.borrow() {
            self.start_local(&mut d);
            let room = (d.slots.available_permits() + d.ahead).saturating_sub(d.local.len());
            let low = drained || d.local.len() <= d.ahead / 2;
            if look && low && refill.is_empty() && room > 0 {
                refill.spawn(self.clone().claim(d.queue.clone(), room));
            }
            tokio::select! {
                Some(claimed) = refill.join_next(), if !refill.is_empty() => {
                    look = match claimed {
                        Ok((asked, Ok(jobs))) => {
                            drained = jobs.len() < asked;
                            self.hold(&mut d, jobs);
                            !drained
                        }
                        Ok((_, Err(e))) => {
                            tracing::warn!(error = %e, queue = %d.queue, "claiming jobs failed");
                            false
                        }
                        Err(_) => false,
                    };
                }
                _ = d.freed.notified() => {}
                Some(done) = d.running.join_next(), if !d.running.is_empty() => {
                    if let Ok(id) = done {
                        d.handles.remove(&id);
                    }
                }
                _ = self.wake.notified() => look = true,
                _ = poll.tick() => look = true,
                _ = age_check.tick() => {
                    if self.return_stale(&mut d, max_age).await {
                        look = true;
                    }
                }
                _ = stop.changed() => {}
            }
        }
        // A claim still in flight claimed for this process too.
        while let Some(claimed) = refill.join_next().await {
            if let Ok((_, Ok(jobs))) = claimed {
                self.hold(&mut d, jobs);
            }
        }
        self.drain(d).await;
    }

    async fn claim(self: Arc<Self>, queue: String, limit: usize) -> Claimed {
        let kinds = self.registry.kinds();
        let lease = self.config.lease.get();
        let claimed = store::claim(&self.db, &queue, &kinds, &self.owner, lease, limit).await;
        (limit, claimed)
    }

    /// Takes freshly claimed jobs into the local queue, keeping it in claim order
    /// (priority, then due time): `RETURNING` answers rows in no particular order, and a
    /// refill may bring a job more urgent than those already waiting.
    fn hold(&self, d: &mut Dispatch, jobs: Vec<Model>) {
        if jobs.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut held = self.held();
        for job in jobs {
            held.insert(job.id, Phase::Queued);
            d.local.push_back((now, job));
        }
        drop(held);
        d.local.make_contiguous().sort_by(|(_, a), (_, b)| {
            (b.priority, a.run_at, a.id).cmp(&(a.priority, b.run_at, b.id))
        });
    }

    /// Starts waiting jobs while slots are free.
    fn start_local(self: &Arc<Self>, d: &mut Dispatch) {
        while !d.local.is_empty() {
            let Ok(permit) = d.slots.clone().try_acquire_owned() else {
                return;
            };
            let Some((_, job)) = d.local.pop_front() else {
                return;
            };
            let slot = Slot {
                permit: Some(permit),
                freed: d.freed.clone(),
                recording: d.recording.clone(),
            };
            let id = job.id;
            self.held().insert(id, Phase::Running);
            let this = self.clone();
            let handle = d.running.spawn(async move {
                this.execute(job, slot).await;
                id
            });
            d.handles.insert(id, handle);
        }
    }

    /// Gives back the jobs that waited in the local queue longer than `max_age`; whether
    /// any went back.
    async fn return_stale(&self, d: &mut Dispatch, max_age: std::time::Duration) -> bool {
        let now = Instant::now();
        let stale: HashSet<JobId> = d
            .local
            .iter()
            .filter(|(at, _)| now.duration_since(*at) >= max_age)
            .map(|(_, job)| job.id)
            .collect();
        if stale.is_empty() {
            return false;
        }
        let ids: Vec<JobId> = stale.iter().copied().collect();
        match store::give_back(&self.db, &ids, &self.owner).await {
            Ok(_) => {
                d.local.retain(|(_, job)| !stale.contains(&job.id));
                let mut held = self.held();
                for id in &stale {
                    held.remove(id);
                }
                tracing::debug!(jobs = stale.len(), queue = %d.queue, "prefetched jobs waited too long; returned to the queue");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, queue = %d.queue, "could not return prefetched jobs; keeping them");
                false
            }
        }
    }

    /// Shutdown: the prefetched jobs go back at once; running jobs get
    /// `jobs.shutdown_timeout`, then the handlers still running are aborted — they stop at
    /// their next `.await` — and their jobs go back as not attempted (like a snooze)
    /// rather than waiting out their leases. Runs whose handler had returned finish
    /// writing their outcome.
    async fn drain(&self, mut d: Dispatch) {
        let queued: Vec<JobId> = d.local.drain(..).map(|(_, job)| job.id).collect();
        self.give_back(&d.queue, queued, "prefetched").await;
        let deadline = tokio::time::Instant::now() + self.config.shutdown_timeout.get();
        while let Ok(Some(_)) = tokio::time::timeout_at(deadline, d.running.join_next()).await {}
        let stuck: Vec<JobId> = {
            let held = self.held();
            d.handles
                .iter()
                .filter(|(id, _)| held.get(id) == Some(&Phase::Running))
                .map(|(id, handle)| {
                    handle.abort();
                    *id
                })
                .collect()
        };
        // Each run's task owns its handler's future: once the task is joined, the handler
        // is dropped and can no longer write, so it is safe to hand its job to others.
        while d.running.join_next().await.is_some() {}
        // A run that reached `Recording` before the abort landed wrote (or will have its
        // lease expire on) its outcome; only the ones still `Running` never did.
        let unfinished: Vec<JobId> = {
            let held = self.held();
            stuck
                .into_iter()
                .filter(|id| held.get(id) == Some(&Phase::Running))
                .collect()
        };
        self.give_back(&d.queue, unfinished, "unfinished").await;
    }

    async fn give_back(&self, queue: &str, ids: Vec<JobId>, what: &str) {
        if ids.is_empty() {
            return;
        }
        match store::give_back(&self.db, &ids, &self.owner).await {
            Ok(returned) => {
                tracing::info!(jobs = returned, queue, "{what} jobs returned to the queue")
            }
            Err(e) => {
                tracing::error!(error = %e, jobs = ids.len(), queue, "could not return {what} jobs; their leases will expire and rescue them")
            }
        }
        let mut held = self.held();
        for id in &ids {
            held.remove(id);
        }
    }
}

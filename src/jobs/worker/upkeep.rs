//! The background loops beside the queues: the cron scheduler, and lease renewal with
//! queue-depth gauges and the rescue of jobs whose workers died.

use super::Workers;
use crate::db::ids::JobId;
use crate::jobs::store;
use std::sync::Arc;
use tokio::sync::watch;

impl Workers {
    /// Fires cron slots while this instance holds the scheduler lease; resigns on shutdown.
    pub(super) async fn schedule(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let scheduler = crate::jobs::cron::Scheduler::new(
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

    /// Renews the leases of running and prefetched jobs (one statement) and rescues jobs whose workers died.
    pub(super) async fn maintain(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let lease = self.config.lease.get();
        let mut tick = tokio::time::interval(lease / 3);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            let ids: Vec<JobId> = self.held().keys().copied().collect();
            // Without renewed leases of its own, this process could rescue its own jobs.
            let renewed = match store::heartbeat(&self.db, &self.owner, ids, lease).await {
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!(error = %e, "renewing job leases failed");
                    false
                }
            };
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
                    // An empty queue waits 0 s; keeping its last age would keep alerts firing.
                    for queue in self.config.queues.keys() {
                        let age = oldest.iter().find(|(q, _)| q == queue).map_or(0.0, |o| o.1);
                        metrics::gauge!("levee_jobs_oldest_available_age_seconds", "queue" => queue.clone()).set(age);
                    }
                }
                Err(e) => tracing::debug!(error = %e, "measuring queue depth failed"),
            }
            if !renewed {
                continue;
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

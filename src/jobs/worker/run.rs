//! One run of a job: the handler (a panic counts as a failure), then its
//! outcome recorded — completed, retried with backoff, snoozed or dead — with metrics and
//! one tracing span per job.

use super::dispatch::Slot;
use super::{Phase, Workers};
use crate::jobs::entity::{JobState, Model};
use crate::jobs::registry::{JobContext, Outcome};
use crate::jobs::store;
use futures_util::FutureExt;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

impl Workers {
    /// Runs `job` in `slot`, which is freed as soon as the handler returns (and a place to
    /// write the outcome is free): writing the outcome (a batched completion, mostly) does
    /// not hold up the queue's next job.
    pub(super) async fn execute(&self, job: Model, slot: Slot) {
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
                // A panic is caught and counted as a failure. The handler runs inside this
                // run's task, not a task of its own, so aborting the run (a drain that gave
                // up on it) drops the handler too instead of leaving it running detached.
                let run = tracing::Instrument::instrument(handler(payload, ctx), span.clone());
                std::panic::AssertUnwindSafe(run)
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| Outcome::Retry("the handler panicked".into()))
            }
        };
        self.held().insert(job.id, Phase::Recording);
        let _place = slot.hand_over().await;
        let elapsed = started.elapsed().as_secs_f64();
        metrics::histogram!("levee_job_duration_seconds", "queue" => job.queue.clone(), "kind" => job.kind.clone()).record(elapsed);
        let result = self.record(&job, outcome).await;
        self.held().remove(&job.id);
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
}

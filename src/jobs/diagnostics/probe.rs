//! `jobs.probe`: a diagnostic job kind built into every levee process. It checks a
//! deployment's workers end to end, drives `levee jobs bench`, and — with `record` — writes
//! one `job_probe_runs` row per execution, so a crash test can count lost and repeated runs.
//! With `fail_with` it fails every attempt, to make a dead job on purpose (checking the
//! dead-letter queue, its alerts and the admin console's retry); with `fail_until` it
//! fails only until then, so the retried dead job completes (`levee jobs probe`).

use crate::jobs::{JobContext, JobKind, Outcome, Registry};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Probe {
    /// Simulated work.
    #[serde(default)]
    pub sleep_ms: u64,
    /// Record the run (before the simulated work, so runs cut short by a crash count too).
    #[serde(default)]
    pub record: bool,
    /// Fail every attempt with this error (after recording and the simulated work), so
    /// the job retries with the configured backoff and ends dead once attempts run out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_with: Option<String>,
    /// Fail every attempt that starts before this Unix time (seconds), then succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_until: Option<i64>,
}

impl Probe {
    /// The error this run fails with when it starts at Unix time `now`, if any.
    fn failure(&self, now: i64) -> Option<String> {
        match self.fail_until {
            Some(until) if now < until => Some(format!(
                "probe fails until {}",
                chrono::DateTime::from_timestamp(until, 0).unwrap_or_default()
            )),
            _ => self.fail_with.clone(),
        }
    }
}

impl JobKind for Probe {
    const NAME: &'static str = "jobs.probe";
}

pub(in crate::jobs) fn register(registry: &mut Registry) {
    registry.register::<Probe, _, _>(|probe, ctx| async move {
        if probe.record
            && let Err(e) = record(&ctx).await
        {
            return Outcome::Retry(format!("recording the probe run failed: {e}"));
        }
        if probe.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(probe.sleep_ms)).await;
        }
        match probe.failure(chrono::Utc::now().timestamp()) {
            Some(error) => Outcome::Retry(error),
            None => Outcome::Done,
        }
    });
}

async fn record(ctx: &JobContext) -> Result<(), sea_orm::DbErr> {
    let insert = ctx.db.statement(
        "INSERT INTO job_probe_runs (id, job_id, attempt, worker, started_at) VALUES ($1, $2, $3, $4, $5)",
        vec![
            uuid::Uuid::now_v7().into(),
            ctx.id.into(),
            ctx.attempt.into(),
            ctx.worker.to_string().into(),
            chrono::Utc::now().into(),
        ],
    );
    ctx.db.write().execute_raw(insert).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::Probe;

    #[test]
    fn fail_until_fails_before_the_deadline_and_succeeds_from_it() {
        let probe = Probe {
            fail_until: Some(1_000),
            ..Probe::default()
        };
        assert!(
            probe
                .failure(999)
                .is_some_and(|e| e.contains("fails until"))
        );
        assert_eq!(probe.failure(1_000), None);
        assert_eq!(Probe::default().failure(0), None);
        let always = Probe {
            fail_with: Some("broken".into()),
            ..Probe::default()
        };
        assert_eq!(always.failure(i64::MAX).as_deref(), Some("broken"));
    }
}

//! The `[jobs]` section: the durable queue's workers.

use super::{ConfigError, Duration, IntIn};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Run workers inside `levee serve` too (`levee worker` always runs them).
    pub run_in_serve: bool,
    /// Queues to work and how many jobs of each run at once.
    pub queues: BTreeMap<String, IntIn<1, 1000>>,
    /// Jobs each queue claims ahead of its free slots, per slot of its concurrency (a queue
    /// of concurrency 24 keeps up to 24 × this claimed and waiting in memory), so a slot
    /// that frees up starts its next job without a round trip to the database. Their
    /// leases are renewed with the running jobs'; on shutdown they return to the queue at
    /// once. 0 claims only for free slots.
    pub local_queue: IntIn<0, 100>,
    /// A job claimed ahead that has waited in memory this long goes back to the database
    /// (and is claimed again in priority order), so a higher-priority job enqueued later
    /// waits behind prefetched ones for at most about this long.
    pub local_queue_max_age: Duration,
    /// Idle workers look for due jobs at least this often (an enqueue in the same process
    /// wakes them at once).
    pub poll_interval: Duration,
    /// A running job's lease; renewed every third of it. A job whose lease expires (its
    /// process died) goes back to the queue.
    pub lease: Duration,
    /// First retry delay; doubles per attempt, with jitter, up to `retry_max_delay`.
    pub retry_base_delay: Duration,
    pub retry_max_delay: Duration,
    /// On shutdown, running jobs may finish for this long; the rest are stopped and return
    /// to the queue.
    pub shutdown_timeout: Duration,
    /// Completed jobs are deleted after this long (by the `jobs.prune` job).
    pub completed_retention: Duration,
    /// Dead jobs are kept this long for inspection and replay.
    pub dead_retention: Duration,
    /// Scheduled jobs; exactly one instance of a fleet enqueues each slot.
    pub cron: Vec<CronEntry>,
}

/// `schedule` is a cron expression (5 fields, or 6 with seconds first); each slot enqueues a
/// `kind` job with an empty payload. Slots missed by more than a minute (the fleet was down)
/// are skipped, not caught up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronEntry {
    pub name: String,
    pub schedule: String,
    pub kind: String,
}

impl JobsConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        // Shorter would hand prefetched jobs back and claim them again almost without pause.
        if self.local_queue_max_age.get() < std::time::Duration::from_millis(100) {
            return Err(ConfigError::key(
                "jobs.local_queue_max_age",
                "expected a duration of at least \"100ms\"",
            ));
        }
        Ok(())
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            run_in_serve: true,
            // Email has its own queue so a slow SMTP server cannot occupy every default slot.
            queues: BTreeMap::from([
                ("default".to_string(), IntIn::new(4)),
                ("mail".to_string(), IntIn::new(2)),
            ]),
            local_queue: IntIn::new(8),
            local_queue_max_age: Duration::secs(1),
            poll_interval: Duration::secs(1),
            lease: Duration::secs(30),
            retry_base_delay: Duration::secs(5),
            retry_max_delay: Duration::secs(600),
            shutdown_timeout: Duration::secs(10),
            completed_retention: Duration::secs(24 * 3600),
            dead_retention: Duration::secs(30 * 24 * 3600),
            cron: vec![
                CronEntry {
                    name: "prune-jobs".into(),
                    schedule: "17 * * * *".into(),
                    kind: "jobs.prune".into(),
                },
                CronEntry {
                    name: "prune-auth".into(),
                    schedule: "47 * * * *".into(),
                    kind: "auth.prune".into(),
                },
                CronEntry {
                    name: "prune-admin-sessions".into(),
                    schedule: "53 * * * *".into(),
                    kind: "admin.prune".into(),
                },
                CronEntry {
                    name: "prune-idempotency-keys".into(),
                    schedule: "23 * * * *".into(),
                    kind: "idempotency.prune".into(),
                },
                CronEntry {
                    name: "prune-reports".into(),
                    schedule: "37 * * * *".into(),
                    kind: "reports.prune".into(),
                },
                CronEntry {
                    name: "prune-webhooks".into(),
                    schedule: "47 * * * *".into(),
                    kind: "webhooks.prune".into(),
                },
                CronEntry {
                    name: "prune-account-tokens".into(),
                    schedule: "43 * * * *".into(),
                    kind: "accounts.prune".into(),
                },
            ],
        }
    }
}

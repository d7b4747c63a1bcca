//! The `[jobs]` section: the durable queue's workers.

use super::{Duration, IntIn};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Run workers inside `levee serve` too (`levee worker` always runs them).
    pub run_in_serve: bool,
    /// Queues to work and how many jobs of each run at once.
    pub queues: BTreeMap<String, IntIn<1, 1000>>,
    /// Idle workers look for due jobs at least this often (an enqueue in the same process
    /// wakes them at once).
    pub poll_interval: Duration,
    /// A running job's lease; renewed every third of it. A job whose lease expires (its
    /// process died) goes back to the queue.
    pub lease: Duration,
    /// First retry delay; doubles per attempt, with jitter, up to `retry_max_delay`.
    pub retry_base_delay: Duration,
    pub retry_max_delay: Duration,
    /// On shutdown, running jobs may finish for this long; the rest return to the queue.
    pub shutdown_timeout: Duration,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            run_in_serve: true,
            queues: BTreeMap::from([("default".to_string(), IntIn::new(4))]),
            poll_interval: Duration::secs(1),
            lease: Duration::secs(30),
            retry_base_delay: Duration::secs(5),
            retry_max_delay: Duration::secs(600),
            shutdown_timeout: Duration::secs(10),
        }
    }
}

//! Job kinds and their handlers.

use crate::db::Db;
use crate::db::ids::JobId;
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// A typed job payload. Handlers must be idempotent: a job may run again after a crash.
pub trait JobKind: Serialize + DeserializeOwned + Send + 'static {
    /// Stored with the job; names the handler.
    const NAME: &'static str;
    const QUEUE: &'static str = "default";
    /// Attempts before the job is dead (the guides' default: 3).
    const MAX_ATTEMPTS: i32 = 3;
}

/// What a handler asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Failed; retry with the usual backoff (dead once attempts run out).
    Retry(String),
    /// Failed; retry after this long.
    RetryIn(Duration, String),
    /// Not now: run again after this long without using up an attempt.
    Snooze(Duration),
    /// Failed for good: straight to the dead-letter state.
    Fail(String),
}

impl Outcome {
    /// A pruning job's outcome: done, logging how many `what` were deleted, or retried.
    pub fn of_pruning<E: std::fmt::Display>(deleted: Result<u64, E>, what: &str) -> Self {
        match deleted {
            Ok(deleted) => {
                tracing::info!(deleted, "pruned {what}");
                Outcome::Done
            }
            Err(e) => Outcome::Retry(e.to_string()),
        }
    }
}

/// What a handler gets besides its payload.
#[derive(Clone)]
pub struct JobContext {
    pub id: JobId,
    pub attempt: i32,
    pub db: Db,
    /// The worker running it (`host:instance`), as in the job's lease.
    pub worker: Arc<str>,
}

type Handler =
    Arc<dyn Fn(serde_json::Value, JobContext) -> BoxFuture<'static, Outcome> + Send + Sync>;

/// Handlers by kind name.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Handler>,
    /// Each kind's default queue, to warn about kinds no worker here would run.
    queues: HashMap<&'static str, &'static str>,
}

impl Registry {
    pub fn register<K, F, Fut>(&mut self, handler: F) -> &mut Self
    where
        K: JobKind,
        F: Fn(K, JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.queues.insert(K::NAME, K::QUEUE);
        self.handlers.insert(
            K::NAME,
            Arc::new(move |payload, ctx| {
                let handler = handler.clone();
                Box::pin(async move {
                    match serde_json::from_value::<K>(payload) {
                        Ok(job) => handler(job, ctx).await,
                        Err(e) => {
                            Outcome::Fail(format!("the payload does not fit {}: {e}", K::NAME))
                        }
                    }
                })
            }),
        );
        self
    }

    /// Every registered kind: the only ones this process's workers claim.
    pub(crate) fn kinds(&self) -> Vec<&'static str> {
        self.handlers.keys().copied().collect()
    }

    /// `(kind, queue)` of every registered kind.
    pub(crate) fn queues(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.queues.iter().map(|(kind, queue)| (*kind, *queue))
    }

    pub(crate) fn get(&self, kind: &str) -> Option<Handler> {
        self.handlers.get(kind).cloned()
    }
}

//! Durable background jobs in levee's own database: typed kinds with a retry policy,
//! enqueued in the caller's transaction (so they commit or vanish with its writes),
//! claimed with leases, retried with exponential backoff and jitter, and moved to the
//! dead-letter state (`dead`) when attempts run out. `levee worker` runs workers only;
//! `levee serve` runs them too unless `jobs.run_in_serve = false`.

mod cron;
pub mod diagnostics;
pub mod entity;
mod registry;
pub mod store;
mod wake;
mod worker;

pub use diagnostics::Probe;
pub use entity::{JobState, Model};
pub use registry::{JobContext, JobKind, Outcome, Registry};
pub use store::NewJob;
pub use worker::Workers;

use wake::Fanout;

use sea_orm::{ConnectionTrait, DbErr, TransactionTrait};
use std::sync::Arc;
use tokio::sync::Notify;

/// Deletes completed jobs past `jobs.completed_retention`, dead ones past
/// `jobs.dead_retention`, and the records of cron slots fired more than a day ago.
/// Scheduled by the built-in `prune-jobs` cron entry.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct PruneJobs {}

impl JobKind for PruneJobs {
    const NAME: &'static str = "jobs.prune";
}

/// The job kinds the queue itself defines (retention, diagnostics). Features register
/// theirs in the composition root (`app`), so this module knows no feature.
pub fn builtin_registry(config: &crate::config::JobsConfig) -> Registry {
    let mut registry = Registry::default();
    let (completed, dead) = (
        config.completed_retention.get(),
        config.dead_retention.get(),
    );
    registry.register::<PruneJobs, _, _>(move |_, ctx| async move {
        let pruned = async {
            let jobs = store::prune(&ctx.db, completed, dead).await?;
            Ok::<_, sea_orm::DbErr>((jobs, cron::prune_slots(&ctx.db).await?))
        };
        match pruned.await {
            Ok((deleted, slots)) => {
                tracing::info!(deleted, slots, "pruned finished jobs and fired cron slots");
                Outcome::Done
            }
            Err(e) => Outcome::Retry(e.to_string()),
        }
    });
    diagnostics::register(&mut registry);
    registry
}

/// Options of one enqueue.
#[derive(Debug, Clone, Default)]
pub struct Enqueue {
    pub priority: i32,
    pub run_at: Option<chrono::DateTime<chrono::Utc>>,
    pub unique_key: Option<String>,
    /// Overrides the kind's queue.
    pub queue: Option<String>,
    /// Overrides the kind's `MAX_ATTEMPTS` (e.g. a probe meant to die on its first failure).
    pub max_attempts: Option<i32>,
}

fn new_job<K: JobKind>(job: &K, options: Enqueue) -> Result<NewJob, DbErr> {
    let payload =
        serde_json::to_value(job).map_err(|e| DbErr::Custom(format!("job payload: {e}")))?;
    Ok(NewJob {
        kind: K::NAME.into(),
        queue: options.queue.unwrap_or_else(|| K::QUEUE.into()),
        payload,
        priority: options.priority,
        max_attempts: options.max_attempts.unwrap_or(K::MAX_ATTEMPTS),
        run_at: options.run_at,
        unique_key: options.unique_key,
    })
}

/// Enqueues and wakes workers: this process's at once, other processes' through Redis
/// pub/sub or PostgreSQL NOTIFY (otherwise they find the job by polling). Cheap to clone.
#[derive(Clone, Default)]
pub struct JobQueue {
    wake: Arc<Notify>,
    fanout: Fanout,
}

impl JobQueue {
    pub fn new(redis: Option<crate::redis_conn::RedisConn>, db: &crate::db::Db) -> Self {
        Self {
            wake: Arc::default(),
            fanout: Fanout::new(redis, db),
        }
    }

    /// Enqueues `job` on `conn` — pass the open transaction of the write it belongs to.
    pub async fn enqueue<K: JobKind, C: ConnectionTrait + TransactionTrait>(
        &self,
        conn: &C,
        job: &K,
        options: Enqueue,
    ) -> Result<Model, DbErr> {
        let model = store::enqueue(conn, new_job(job, options)?).await?;
        self.announce(conn).await?;
        Ok(model)
    }

    /// Enqueues `jobs`, with the kind's defaults, in one statement on `conn` (the open
    /// transaction of the writes they belong to).
    pub async fn enqueue_many<K: JobKind, C: ConnectionTrait>(
        &self,
        conn: &C,
        jobs: &[K],
    ) -> Result<(), DbErr> {
        let jobs = jobs
            .iter()
            .map(|job| new_job(job, Enqueue::default()))
            .collect::<Result<_, _>>()?;
        store::enqueue_many(conn, jobs).await?;
        self.announce(conn).await
    }

    /// NOTIFY (PostgreSQL without Redis) goes out with the caller's commit; the rest of
    /// the wake-up at once. Workers woken before the caller commits find nothing and look
    /// again within `jobs.poll_interval`; waking costs little.
    async fn announce(&self, conn: &impl ConnectionTrait) -> Result<(), DbErr> {
        self.fanout.notify_in(conn).await?;
        self.wake();
        Ok(())
    }

    /// Wakes idle workers here and, through Redis, in the rest of the fleet (NOTIFY went
    /// out with the enqueue).
    pub fn wake(&self) {
        self.wake.notify_waiters();
        self.fanout.publish();
    }

    /// A task relaying wake-ups from other processes to this process's workers; it runs
    /// until aborted. `None` when nothing fans out (SQLite without Redis).
    pub fn wake_listener(&self) -> Option<futures_util::future::BoxFuture<'static, ()>> {
        self.fanout.listener(self.wake.clone())
    }

    pub(crate) fn wake_signal(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}

//! How enqueues wake the workers of the other processes of a fleet: Redis pub/sub when
//! Redis is configured, otherwise PostgreSQL NOTIFY/LISTEN; on SQLite alone they poll.

use sea_orm::{ConnectionTrait, DbErr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// Channel (Redis pub/sub, or PostgreSQL NOTIFY) on which enqueues wake the workers of
/// every process of a fleet.
const WAKE_CHANNEL: &str = "jobs:wake";
const PG_WAKE_CHANNEL: &str = "levee_jobs_wake";

/// How enqueues reach the workers of other processes.
#[derive(Clone, Default)]
pub(super) enum Fanout {
    /// Nowhere: they find new jobs by polling (single process, SQLite).
    #[default]
    None,
    /// Redis pub/sub, when Redis is configured.
    Redis(Arc<Publisher>),
    /// PostgreSQL without Redis: `NOTIFY` in the enqueueing transaction (delivered only if
    /// it commits), `LISTEN` on a session of its own on `database.direct_url`.
    Postgres { session_url: String },
}

/// Publishes of a burst of enqueues folded into few: at most one PUBLISH in flight, and
/// one more after it if wake-ups came meanwhile — a flash sale's thousand enqueues a
/// second cost a handful of messages, not a task and a round trip each.
pub(super) struct Publisher {
    redis: crate::redis_conn::RedisConn,
    wanted: AtomicBool,
    running: AtomicBool,
}

impl Fanout {
    pub(super) fn new(redis: Option<crate::redis_conn::RedisConn>, db: &crate::db::Db) -> Self {
        match (redis, db.session_url()) {
            (Some(redis), _) => Fanout::Redis(Arc::new(Publisher {
                redis,
                wanted: AtomicBool::new(false),
                running: AtomicBool::new(false),
            })),
            (None, Some(url)) => Fanout::Postgres {
                session_url: url.to_string(),
            },
            (None, None) => Fanout::None,
        }
    }

    /// The NOTIFY that goes out with an enqueue's transaction, on PostgreSQL without Redis.
    pub(super) async fn notify_in(&self, conn: &impl ConnectionTrait) -> Result<(), DbErr> {
        if let Fanout::Postgres { .. } = self {
            conn.execute_unprepared(&format!("NOTIFY {PG_WAKE_CHANNEL}"))
                .await?;
        }
        Ok(())
    }

    /// Wakes the other processes' workers through Redis (a no-op otherwise).
    pub(super) fn publish(&self) {
        let Fanout::Redis(publisher) = self else {
            return;
        };
        publisher.wanted.store(true, Ordering::SeqCst);
        if publisher.running.swap(true, Ordering::SeqCst) {
            return;
        }
        let publisher = publisher.clone();
        tokio::spawn(async move {
            let redis = &publisher.redis;
            loop {
                while publisher.wanted.swap(false, Ordering::SeqCst) {
                    let mut conn = redis.connection();
                    let mut publish = redis::cmd("PUBLISH");
                    publish.arg(redis.key(WAKE_CHANNEL)).arg(1);
                    let _ = redis
                        .guarded("jobs", publish.query_async::<i64>(&mut conn))
                        .await;
                }
                publisher.running.store(false, Ordering::SeqCst);
                // A wake-up between the last swap and that store saw `running` still set
                // and left its publish to this task.
                if !publisher.wanted.load(Ordering::SeqCst)
                    || publisher.running.swap(true, Ordering::SeqCst)
                {
                    break;
                }
            }
        });
    }

    /// A task relaying wake-ups from other processes to `wake`; `None` when nothing fans
    /// out.
    pub(super) fn listener(
        &self,
        wake: Arc<Notify>,
    ) -> Option<futures_util::future::BoxFuture<'static, ()>> {
        use futures_util::FutureExt;
        match self.clone() {
            Fanout::None => None,
            Fanout::Redis(publisher) => Some(listen_redis(publisher.redis.clone(), wake).boxed()),
            Fanout::Postgres { session_url } => Some(listen_postgres(session_url, wake).boxed()),
        }
    }
}

async fn listen_redis(redis: crate::redis_conn::RedisConn, wake: Arc<Notify>) {
    use futures_util::StreamExt;
    loop {
        if let Ok(mut pubsub) = redis.client().get_async_pubsub().await
            && pubsub.subscribe(redis.key(WAKE_CHANNEL)).await.is_ok()
        {
            let mut messages = pubsub.on_message();
            while messages.next().await.is_some() {
                wake.notify_waiters();
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

async fn listen_postgres(session_url: String, wake: Arc<Notify>) {
    use sea_orm::sqlx::postgres::PgListener;
    loop {
        match PgListener::connect(&session_url).await {
            Ok(mut listener) => {
                if listener.listen(PG_WAKE_CHANNEL).await.is_ok() {
                    // recv reconnects by itself; an error means it could not.
                    while listener.recv().await.is_ok() {
                        wake.notify_waiters();
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "cannot listen for job wake-ups yet"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

//! Invalidations through the database, for instances that share one without Redis (two
//! `serve` processes on one PostgreSQL, or `serve` and `worker` on one SQLite file): a
//! write appends its invalidated key to `cache_invalidations`, and every instance polls
//! for the rows others appended (every `POLL_INTERVAL`) and drops those keys from its L1.
//! With this feed L1 keeps entries for the whole `cache.ttl` instead of `cache.l1_ttl`:
//! an instance alone on SQLite no longer refetches every key every few seconds.
//!
//! A fill racing a polled invalidation is covered by the key's generation, as with Redis.
//! A poll that fails (the database is away) clears L1 once polls work again, and so does
//! a poll that finds more rows than it reads at once.

mod entity;
mod watermark;

use super::Cache;
use crate::db::Db;
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::time::{Duration, Instant};
use watermark::Watermark;

/// How often an instance looks for other instances' invalidations: the longest another
/// instance's write stays unseen here.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Rows read by one poll; more means this instance fell far behind and clears L1.
const BATCH: u64 = 1_000;
/// How long rows are kept (each instance deletes older ones now and then).
const RETENTION: chrono::TimeDelta = chrono::TimeDelta::hours(1);
const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// This process's end of the feed.
#[derive(Clone)]
pub struct Feed {
    db: Db,
    /// Tells this process's rows from others' (which it applied when it wrote them).
    origin: i64,
    /// The last row written before this process could cache anything: it polls for later ones.
    start: i64,
}

impl Feed {
    /// Opens the feed before the cache serves (a row older than the starting point cannot
    /// concern an entry this process filled). Unreadable, it starts at the oldest row.
    pub async fn open(db: Db) -> Self {
        let mut feed = Self {
            db,
            origin: fastrand::i64(..),
            start: 0,
        };
        match feed.last_id().await {
            Ok(id) => feed.start = id,
            Err(e) => tracing::warn!(error = %e, "cannot read the cache invalidation feed"),
        }
        feed
    }

    /// Appends `message` for the other instances. A failure is logged and counted: the
    /// write it follows has committed, so it is not undone.
    pub(super) async fn publish(&self, message: &str) {
        let row = entity::ActiveModel {
            id: NotSet,
            origin: Set(self.origin),
            message: Set(message.to_string()),
            created_at: Set(chrono::Utc::now()),
        };
        if let Err(e) = entity::Entity::insert(row)
            .exec_without_returning(self.db.write())
            .await
        {
            metrics::counter!("levee_cache_feed_errors_total").increment(1);
            tracing::warn!(error = %e, "cannot record a cache invalidation for other instances");
        }
    }

    async fn last_id(&self) -> Result<i64, sea_orm::DbErr> {
        let last = entity::Entity::find()
            .select_only()
            .column_as(entity::Column::Id.max(), "max")
            .into_tuple::<Option<i64>>()
            .one(self.db.write())
            .await?;
        Ok(last.flatten().unwrap_or(0))
    }

    async fn after(&self, id: i64) -> Result<Vec<entity::Model>, sea_orm::DbErr> {
        entity::Entity::find()
            .filter(entity::Column::Id.gt(id))
            .order_by_asc(entity::Column::Id)
            .limit(BATCH)
            .all(self.db.write())
            .await
    }

    async fn prune(&self) {
        let before = chrono::Utc::now() - RETENTION;
        if let Err(e) = entity::Entity::delete_many()
            .filter(entity::Column::CreatedAt.lt(before))
            .exec(self.db.write())
            .await
        {
            tracing::debug!(error = %e, "cannot prune old cache invalidations");
        }
    }
}

/// Applies other instances' invalidations to `cache`'s L1; runs until aborted.
pub async fn poller(cache: Cache, feed: Feed) {
    let mut tick = tokio::time::interval(POLL_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut mark = Watermark::starting_after(feed.start);
    let mut failed = false;
    let mut pruned = Instant::now();
    loop {
        tick.tick().await;
        let rows = match feed.after(mark.low()).await {
            Ok(rows) => rows,
            Err(e) => {
                if !failed {
                    tracing::warn!(error = %e, "cannot read the cache invalidation feed");
                }
                failed = true;
                continue;
            }
        };
        if std::mem::take(&mut failed) || rows.len() as u64 >= BATCH {
            cache.clear_l1();
            mark.skip_to(rows.last().map_or(mark.low(), |row| row.id));
            continue;
        }
        let fresh = mark.unseen(rows.iter().map(|row| row.id), Instant::now());
        for row in rows.iter().filter(|row| fresh.contains(&row.id)) {
            if row.origin != feed.origin {
                cache.apply(&row.message).await;
            }
        }
        if pruned.elapsed() >= PRUNE_INTERVAL {
            feed.prune().await;
            pruned = Instant::now();
        }
    }
}

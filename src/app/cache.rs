//! The data cache of a `serve` or `worker` process, and its database feed of invalidations
//! when no Redis carries them.

use super::Tasks;
use crate::cache::{Cache, Feed, feed_poller};
use crate::config::Config;
use crate::db::Db;
use crate::redis_conn::RedisConn;
use std::time::Duration;

/// `replica_lag` as `Cache::new` takes it. Without Redis (and with the cache on) the cache
/// hears of other processes' writes through the database.
pub(super) async fn open_cache(
    config: &Config,
    db: &Db,
    redis: Option<RedisConn>,
    replica_lag: Option<Duration>,
) -> Cache {
    let feed = match redis {
        None if config.cache.enabled => Some(Feed::open(db.clone()).await),
        _ => None,
    };
    Cache::new(&config.cache, redis, replica_lag, feed)
}

/// Polls the database for other processes' cache invalidations, when the cache uses it.
pub(super) fn spawn_feed_poller(tasks: &mut Tasks, cache: &Cache) {
    if let Some(feed) = cache.feed() {
        tasks.spawn_loop(
            "cache invalidation feed",
            feed_poller(cache.clone(), feed.clone()),
        );
    }
}

//! Invalidation: a write forgets its key in L1 here, in L2, and (over a Redis channel) in
//! every other instance's L1; each one bumps the key's generation first, so a fill that
//! read the old row is not stored afterwards. redis-rs does not resubscribe after a
//! disconnect, so the subscriber reconnects itself and clears L1 each time (messages may
//! have been missed meanwhile). Without Redis the same messages go through the database
//! instead (`feed`), and `apply` serves both.
//!
//! While Redis is unreachable a write's delete and message cannot be sent: the key waits
//! in the backlog and the replayer sends it once Redis answers. Until then other
//! instances cannot hear this one, and this one cannot hear them; what bounds staleness
//! is L1's own TTL, counted from each entry's fill, so no entry outlives `cache.l1_ttl`
//! from the moment Redis went away (nor from any write after that): with Redis gone,
//! L1 refills only from the database. An instance with a backlog keeps off L2, whose
//! entries may be ones it could not delete. The window left is between Redis coming
//! back and the replay (at most `redis.backoff` plus `REPLAY_INTERVAL`), in which
//! another instance may read an entry the replay is about to delete; the replay's
//! message then drops it from that instance's L1.

use super::Cache;
use super::backlog::Next;
use crate::redis_conn::RedisConn;
use futures_util::StreamExt;
use std::time::Duration;

pub const CHANNEL: &str = "cache:invalidate";
/// The message that clears every instance's L1 (no key has this form: keys are
/// `namespace:key`).
pub const CLEAR_ALL: &str = "*";
/// The start of a message that drops one namespace, `*{namespace}`, from every L1.
pub const NAMESPACE_MARK: &str = "*";
const RECONNECT_DELAY: Duration = Duration::from_secs(1);
/// How often waiting invalidations are retried; each try is free while Redis backs off.
const REPLAY_INTERVAL: Duration = Duration::from_millis(100);

impl Cache {
    /// Forgets `namespace`/`key` everywhere: L1 here, L2, and L1 of every other instance.
    pub async fn invalidate(&self, namespace: &str, key: &str) {
        let key = format!("{namespace}:{key}");
        self.forget(&key).await;
        if let Some(lag) = self.0.replica_lag {
            let this = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(lag).await;
                this.forget(&key).await;
            });
        }
    }

    async fn forget(&self, key: &str) {
        self.drop_l1(key).await;
        if let Some(feed) = &self.0.feed {
            feed.publish(key).await;
        }
        let Some(l2) = &self.0.l2 else {
            return;
        };
        // Behind a backlog the key queues too, so invalidations replay in order.
        let sent = self.0.backlog.is_clear() && l2.invalidate(key).await;
        if !sent && self.0.backlog.push(key) {
            self.clear_l1();
        }
    }

    /// Sends waiting invalidations, oldest first, until Redis fails or none is left.
    async fn replay(&self) {
        let Some(l2) = &self.0.l2 else {
            return;
        };
        loop {
            match self.0.backlog.next() {
                Next::Nothing => return,
                Next::Send(key) if l2.invalidate(&key).await => self.0.backlog.sent(&key),
                Next::Flush if l2.flush().await => {
                    // Fills that began before the flush may hold entries it deleted.
                    self.clear_l1();
                    self.0.backlog.flushed();
                    tracing::info!(
                        "cache flushed after the invalidation backlog overflowed; caching resumes"
                    );
                }
                Next::Send(_) | Next::Flush => return,
            }
        }
    }

    /// Applies another instance's invalidation message to this one's L1.
    pub(super) async fn apply(&self, message: &str) {
        if message == CLEAR_ALL {
            self.clear_l1();
        } else if let Some(namespace) = message.strip_prefix(NAMESPACE_MARK) {
            self.drop_namespace_l1(namespace).await;
        } else {
            self.drop_l1(message).await;
        }
    }

    async fn drop_l1(&self, key: &str) {
        self.0.generations.bump(key);
        self.0.l1.invalidate(key).await;
    }

    /// A fill stored `key` in L1 after it was invalidated: forget it again.
    pub(super) async fn drop_if_moved(&self, key: &str, generation: u64) {
        if self.0.generations.moved(key, generation) {
            self.0.l1.invalidate(key).await;
        }
    }

    pub(super) fn clear_l1(&self) {
        self.0.generations.bump_all();
        self.0.l1.invalidate_all();
    }
}

/// Drops invalidated keys from this instance's L1; runs until aborted.
pub async fn subscriber(cache: Cache, redis: RedisConn) {
    let channel = redis.key(CHANNEL);
    loop {
        match redis.client().get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    cache.clear_l1();
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        if let Ok(payload) = message.get_payload::<String>() {
                            cache.apply(&payload).await;
                        }
                    }
                    tracing::warn!("cache invalidation subscription lost; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "cannot subscribe to cache invalidations"),
            },
            Err(e) => tracing::debug!(error = %e, "cannot connect for cache invalidations"),
        }
        metrics::counter!("levee_cache_subscriber_reconnects_total").increment(1);
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}

/// Replays invalidations that waited for Redis; runs until aborted.
pub async fn replayer(cache: Cache) {
    let mut tick = tokio::time::interval(REPLAY_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        cache.replay().await;
    }
}

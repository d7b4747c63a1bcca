//! Invalidation: a write forgets its key in L1 here, in L2, and (over a Redis channel) in
//! every other instance's L1; each one bumps the key's generation first, so a fill that
//! read the old row is not stored afterwards. redis-rs does not resubscribe after a
//! disconnect, so the subscriber reconnects itself and clears L1 each time (messages may
//! have been missed meanwhile).

use super::Cache;
use crate::redis_conn::RedisConn;
use futures_util::StreamExt;
use std::time::Duration;

pub const CHANNEL: &str = "cache:invalidate";
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

impl Cache {
    /// Forgets `namespace`/`key` everywhere: L1 here, L2, and L1 of every other instance.
    pub async fn invalidate(&self, namespace: &'static str, key: &str) {
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
        if let Some(l2) = &self.0.l2 {
            l2.delete(key).await;
            l2.publish_invalidation(key).await;
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

    fn clear_l1(&self) {
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
                        if let Ok(key) = message.get_payload::<String>() {
                            cache.drop_l1(&key).await;
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

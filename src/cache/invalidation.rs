//! Cross-instance invalidation: writers publish the cache key on a Redis channel; every
//! instance's subscriber drops it from L1. redis-rs does not resubscribe after a
//! disconnect, so the subscriber reconnects itself and clears L1 each time (messages may
//! have been missed meanwhile).

use super::Cache;
use crate::redis_conn::RedisConn;
use futures_util::StreamExt;
use std::time::Duration;

pub const CHANNEL: &str = "cache:invalidate";
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

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

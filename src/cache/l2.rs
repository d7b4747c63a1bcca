//! The Redis tier. Every call is bounded by `redis.command_timeout`; an error is counted,
//! logged, and makes levee bypass Redis for `redis.backoff` — reads then go to L1 and the
//! database, and Redis is tried again afterwards.

use super::entry::Entry;
use crate::redis_conn::RedisConn;
use redis::AsyncCommands;
use std::time::Duration;

/// A fetch lock outlives a slow fetch only this long.
const LOCK_TTL_MS: u64 = 3000;
/// Keys asked for per SCAN step (and deleted per DEL) when flushing.
const FLUSH_BATCH: u64 = 500;

pub struct L2 {
    redis: RedisConn,
}

impl L2 {
    pub fn new(redis: RedisConn) -> Self {
        Self { redis }
    }

    pub fn redis(&self) -> &RedisConn {
        &self.redis
    }

    /// Runs `op` through the shared back-off; errors yield `None`.
    async fn guarded<T>(
        &self,
        op: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        self.redis.guarded("cache", op).await.ok()
    }

    pub async fn get(&self, key: &str) -> Option<Entry> {
        let mut conn = self.redis.connection();
        let bytes: Option<Vec<u8>> = self
            .guarded(conn.get(self.redis.key(&format!("cache:{key}"))))
            .await
            .flatten();
        bytes.as_deref().and_then(Entry::parse)
    }

    pub async fn set(&self, key: &str, entry: &Entry, keep_for: Duration) {
        let mut conn = self.redis.connection();
        let millis = u64::try_from(keep_for.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let _: Option<()> = self
            .guarded(conn.pset_ex(
                self.redis.key(&format!("cache:{key}")),
                entry.encode(),
                millis,
            ))
            .await;
    }

    pub async fn delete(&self, key: &str) {
        let mut conn = self.redis.connection();
        let _: Option<()> = self
            .guarded(conn.del(self.redis.key(&format!("cache:{key}"))))
            .await;
    }

    /// Takes the fetch lock of `key`; `true` also when Redis is unavailable (then this
    /// instance simply fetches).
    pub async fn try_lock(&self, key: &str) -> bool {
        let mut conn = self.redis.connection();
        let mut command = redis::cmd("SET");
        command
            .arg(self.redis.key(&format!("lock:{key}")))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(LOCK_TTL_MS);
        self.guarded(command.query_async::<Option<String>>(&mut conn))
            .await
            .is_none_or(|reply| reply.is_some())
    }

    pub async fn unlock(&self, key: &str) {
        let mut conn = self.redis.connection();
        let _: Option<()> = self
            .guarded(conn.del(self.redis.key(&format!("lock:{key}"))))
            .await;
    }

    /// Deletes `key` and tells every instance to drop it from L1; `false` when Redis
    /// did not take both (the caller queues the key for a replay).
    pub async fn invalidate(&self, key: &str) -> bool {
        let mut conn = self.redis.connection();
        let mut pipe = redis::pipe();
        pipe.del(self.redis.key(&format!("cache:{key}")))
            .ignore()
            .publish(self.redis.key(super::invalidation::CHANNEL), key)
            .ignore();
        self.guarded(pipe.query_async::<()>(&mut conn))
            .await
            .is_some()
    }

    /// Deletes every cached entry of this deployment and tells every instance to clear
    /// L1 (after invalidations were dropped); `false` when Redis failed midway.
    pub async fn flush(&self) -> bool {
        self.delete_and_announce("cache:", super::invalidation::CLEAR_ALL.to_string())
            .await
    }

    /// Deletes every entry of `namespace` and tells every instance to drop it from L1;
    /// `false` when Redis failed midway.
    pub async fn purge_namespace(&self, namespace: &str) -> bool {
        let message = format!("{}{namespace}", super::invalidation::NAMESPACE_MARK);
        self.delete_and_announce(&format!("cache:{namespace}:"), message)
            .await
    }

    /// Deletes the keys under `prefix` (SCAN, then DEL per batch), then publishes `message`.
    async fn delete_and_announce(&self, prefix: &str, message: String) -> bool {
        let pattern = format!("{}*", glob_escaped(&self.redis.key(prefix)));
        let mut conn = self.redis.connection();
        let mut cursor = 0u64;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(FLUSH_BATCH);
            let Some((next, keys)) = self
                .guarded(scan.query_async::<(u64, Vec<Vec<u8>>)>(&mut conn))
                .await
            else {
                return false;
            };
            if !keys.is_empty() && self.guarded(conn.del::<_, ()>(keys)).await.is_none() {
                return false;
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        let channel = self.redis.key(super::invalidation::CHANNEL);
        self.guarded(conn.publish::<_, _, ()>(channel, message))
            .await
            .is_some()
    }
}

/// `raw` with Redis glob metacharacters escaped, so a key prefix matches only itself.
fn glob_escaped(raw: &str) -> String {
    let mut escaped = String::with_capacity(raw.len());
    for c in raw.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    #[test]
    fn glob_metacharacters_in_a_prefix_are_escaped() {
        assert_eq!(super::glob_escaped("levee:cache:"), "levee:cache:");
        assert_eq!(super::glob_escaped("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}

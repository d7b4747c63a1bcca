//! The Redis store of the fleet's snapshots, under the deployment's key prefix: one key
//! per process start (`fleet:snapshot:{id}`, expiring with the retention) and a sorted set
//! of instance ids by publish time (`fleet:instances`), trimmed on every publish.

use crate::redis_conn::RedisConn;
use redis::RedisResult;

const USER: &str = "fleet";

fn snapshot_key(redis: &RedisConn, id: &str) -> String {
    redis.key(&format!("fleet:snapshot:{id}"))
}

fn index_key(redis: &RedisConn) -> String {
    redis.key("fleet:instances")
}

/// Stores `body` as the latest snapshot of `id` for `retention_secs`.
pub async fn publish(
    redis: &RedisConn,
    id: &str,
    taken_at: u64,
    retention_secs: u64,
    body: String,
) -> RedisResult<()> {
    let index = index_key(redis);
    let mut pipe = redis::pipe();
    pipe.cmd("SET")
        .arg(snapshot_key(redis, id))
        .arg(body)
        .arg("EX")
        .arg(retention_secs)
        .ignore()
        .cmd("ZADD")
        .arg(&index)
        .arg(taken_at)
        .arg(id)
        .ignore()
        .cmd("ZREMRANGEBYSCORE")
        .arg(&index)
        .arg("-inf")
        .arg(format!("({}", taken_at.saturating_sub(retention_secs)))
        .ignore()
        .cmd("EXPIRE")
        .arg(&index)
        .arg(retention_secs)
        .ignore();
    let mut conn = redis.connection();
    redis.guarded(USER, pipe.query_async::<()>(&mut conn)).await
}

/// The bodies of the snapshots published since `since`, newest first, at most `limit`.
pub async fn load(redis: &RedisConn, since: u64, limit: u64) -> RedisResult<Vec<String>> {
    let mut conn = redis.connection();
    let mut range = redis::cmd("ZREVRANGEBYSCORE");
    range
        .arg(index_key(redis))
        .arg("+inf")
        .arg(since)
        .arg("LIMIT")
        .arg(0)
        .arg(limit);
    let ids: Vec<String> = redis.guarded(USER, range.query_async(&mut conn)).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut get = redis::cmd("MGET");
    for id in &ids {
        get.arg(snapshot_key(redis, id));
    }
    let bodies: Vec<Option<String>> = redis.guarded(USER, get.query_async(&mut conn)).await?;
    Ok(bodies.into_iter().flatten().collect())
}

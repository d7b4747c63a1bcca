//! Failure counters in Redis, so a fleet locks an account (or an address) out together:
//! INCR with a fresh expiry per failure (the lockout runs from the last failure), and one
//! script reading every counter of a login in one round trip.

use super::Counter;
use crate::redis_conn::RedisConn;
use std::time::Duration;

/// KEYS: counters; ARGV: their limits. The longest remaining lockout (ms) among counters
/// at their limit; 0 when none is.
const LOCKED_FOR: &str = r"
local wait = 0
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i]) then
    local ttl = redis.call('PTTL', key)
    if ttl > wait then wait = ttl end
  end
end
return wait
";

/// Labels this user's errors in `levee_redis_errors_total`.
const USER: &str = "login_throttle";

pub struct SharedCounters {
    redis: RedisConn,
    locked_for: redis::Script,
    lockout: Duration,
}

impl SharedCounters {
    pub fn new(redis: RedisConn, lockout: Duration) -> Self {
        Self {
            redis,
            locked_for: redis::Script::new(LOCKED_FOR),
            lockout,
        }
    }

    fn key(&self, counter: &Counter) -> String {
        self.redis.key(&format!("login:{}", counter.key))
    }

    pub async fn locked_for(&self, counters: &[Counter]) -> redis::RedisResult<Option<Duration>> {
        let mut invocation = self.locked_for.prepare_invoke();
        for counter in counters {
            invocation.key(self.key(counter)).arg(counter.limit);
        }
        let mut conn = self.redis.connection();
        let wait: u64 = self
            .redis
            .guarded(USER, invocation.invoke_async(&mut conn))
            .await?;
        Ok((wait > 0).then(|| Duration::from_millis(wait)))
    }

    pub async fn add_failure(&self, counters: &[Counter]) -> redis::RedisResult<()> {
        let ttl_ms = i64::try_from(self.lockout.as_millis()).unwrap_or(i64::MAX);
        let mut pipe = redis::pipe();
        pipe.atomic();
        for counter in counters {
            let key = self.key(counter);
            pipe.incr(&key, 1).ignore().pexpire(&key, ttl_ms).ignore();
        }
        let mut conn = self.redis.connection();
        self.redis
            .guarded(USER, pipe.query_async::<()>(&mut conn))
            .await
    }

    pub async fn clear(&self, counter: &Counter) -> redis::RedisResult<()> {
        let mut conn = self.redis.connection();
        let key = self.key(counter);
        self.redis
            .guarded(
                USER,
                redis::cmd("DEL").arg(key).query_async::<()>(&mut conn),
            )
            .await
    }
}

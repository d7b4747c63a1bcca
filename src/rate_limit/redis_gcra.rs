//! The fleet backend: GCRA as one atomic Lua script per check — one round trip, with
//! Redis's own clock so every instance agrees on time.

use super::Decision;
use crate::redis_conn::RedisConn;
use std::time::Duration;

/// KEYS[1]: the bucket. ARGV: emission interval (µs), burst. Stores the theoretical
/// arrival time (µs); returns {allowed, remaining, reset µs, retry-after µs}.
const SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tolerance = interval * burst
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > tolerance then
  return {0, 0, tat - now, new_tat - tolerance - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((tolerance - (new_tat - now)) / interval), new_tat - now, 0}
";

pub struct RedisGcra {
    script: redis::Script,
}

impl RedisGcra {
    pub fn new() -> Self {
        Self {
            script: redis::Script::new(SCRIPT),
        }
    }

    pub async fn check(
        &self,
        redis: &RedisConn,
        key: &str,
        emission: Duration,
        burst: u64,
    ) -> Result<Decision, redis::RedisError> {
        let mut conn = redis.connection();
        let interval = u64::try_from(emission.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let (allowed, remaining, reset, retry): (i64, i64, i64, i64) = self
            .script
            .key(redis.key(key))
            .arg(interval)
            .arg(burst)
            .invoke_async(&mut conn)
            .await?;
        let micros = |v: i64| Duration::from_micros(u64::try_from(v).unwrap_or(0));
        Ok(Decision {
            allowed: allowed == 1,
            remaining: u64::try_from(remaining).unwrap_or(0),
            reset: micros(reset),
            retry_after: micros(retry),
        })
    }
}

//! The shared Redis connection (when `redis.url` is set): one multiplexed, auto-reconnecting
//! connection per process, every command bounded by `redis.command_timeout`.

use crate::config::RedisConfig;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

#[derive(Clone)]
pub struct RedisConn {
    manager: ConnectionManager,
    prefix: String,
}

impl RedisConn {
    /// Connects lazily: a Redis that is down at start-up only fails readiness, not boot.
    pub fn open(config: &RedisConfig, url: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let timeout = config.command_timeout.get();
        let manager_config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(timeout))
            .set_connection_timeout(Some(timeout));
        let manager = ConnectionManager::new_lazy_with_config(client, manager_config)?;
        Ok(Self {
            manager,
            prefix: config.key_prefix.clone(),
        })
    }

    /// `key` under this deployment's prefix.
    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    pub fn connection(&self) -> ConnectionManager {
        self.manager.clone()
    }

    pub async fn ping(&self) -> Result<(), redis::RedisError> {
        let mut conn = self.connection();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
    }
}

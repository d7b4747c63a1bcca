//! Whether a presented API key exists, remembered briefly, so the rate limiter can key a
//! real key on its own quota and an invented one on the client address without a database
//! lookup per request.
//!
//! Known keys and unknown ones live in separate bounded caches: a flood of invented keys
//! fills (and evicts within) the unknown cache only, so it cannot push real keys out. Each
//! new invented key still costs one indexed lookup by hash; its request then counts against
//! the client address like any anonymous one. A revoked key may keep its own quota for up
//! to `KNOWN_TTL`; only rate limiting trusts this cache, never authentication.

use super::api_keys;
use moka::sync::Cache;
use sea_orm::ConnectionTrait;
use std::time::Duration;

/// How long a key found live is trusted without asking again.
const KNOWN_TTL: Duration = Duration::from_secs(30);
/// How long a key found missing (or revoked, or expired) is remembered as such; short, so a
/// key created moments ago on another instance (or not yet on a replica) is seen soon.
const UNKNOWN_TTL: Duration = Duration::from_secs(10);
/// Entries per cache: each holds a 64-character hash, so either stays around a megabyte.
const CAPACITY: u64 = 10_000;

pub struct KeyVerdicts {
    known: Cache<String, ()>,
    unknown: Cache<String, ()>,
}

impl KeyVerdicts {
    pub fn new() -> Self {
        let cache = |ttl| {
            Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .build()
        };
        Self {
            known: cache(KNOWN_TTL),
            unknown: cache(UNKNOWN_TTL),
        }
    }

    /// Whether the key hashed to `key_hash` is live. A database error answers `false`
    /// (the caller is limited as anonymous) and is not remembered.
    pub async fn is_live(&self, conn: &impl ConnectionTrait, key_hash: &str) -> bool {
        if self.known.contains_key(key_hash) {
            return true;
        }
        if self.unknown.contains_key(key_hash) {
            return false;
        }
        // Boxed: a query's future is kilobytes, and callers' futures would carry it inline.
        match Box::pin(api_keys::find_live(conn, key_hash)).await {
            Ok(found) => {
                let verdicts = if found.is_some() {
                    &self.known
                } else {
                    &self.unknown
                };
                verdicts.insert(key_hash.to_string(), ());
                found.is_some()
            }
            Err(error) => {
                tracing::warn!(error = %error, "cannot verify an API key for rate limiting");
                false
            }
        }
    }
}

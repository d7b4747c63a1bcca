//! Two-tier cache-aside for public reads. L1 is in-process (moka, bounded by bytes, short
//! TTL); L2 is Redis when configured, shared by the fleet. Misses are single-flight within a
//! process (moka coalesces loads of one key) and across processes (a short Redis lock: one
//! instance fetches, the others poll briefly for its result). Expired entries are served
//! for `stale_while_revalidate` while one background refresh runs. "Not found" is cached
//! for `negative_ttl`. Writes invalidate both tiers and broadcast over Redis pub/sub so
//! every instance drops its L1 copy. With read replicas, a second invalidation follows once
//! a lagging replica could have caught up, so a fill that read the replica's old row does
//! not outlive the lag. A fill that was reading while its key was invalidated in this
//! process answers its caller but is not stored (see `generation`); between processes that
//! race on L2 is bounded by the same delayed second invalidation. Redis errors never fail
//! a read: they are counted and Redis is bypassed for `redis.backoff`. Without Redis,
//! instances sharing a database tell each other of writes through it (`feed`), and L1,
//! then the only tier, keeps entries for the whole `ttl`.

mod backlog;
mod collection;
mod entry;
mod feed;
mod fill;
mod generation;
mod invalidation;
mod l2;
mod lookups;
mod own_writes;
mod purge;

use crate::config::CacheConfig;
use crate::db::consistency::ReadRouting;
use crate::redis_conn::RedisConn;
use backlog::Backlog;
use entry::Entry;
use generation::Generations;
use l2::L2;
use lookups::{Lookups, Tier};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use collection::CachedCollection;
pub use feed::{Feed, poller as feed_poller};
pub use invalidation::{CHANNEL as INVALIDATION_CHANNEL, replayer, subscriber};
pub use purge::{PurgeError, Purged};

/// The cache could not encode or decode an entry. Fetches return their own error type,
/// which must be able to carry this one.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CacheError {
    #[error("cache entry cannot be encoded: {0}")]
    Encode(String),
    #[error("cache entry cannot be decoded: {0}")]
    Decode(String),
}

/// What the cache holds: stored in L2 serialised, shared between requests once decoded.
pub trait Cacheable: Serialize + DeserializeOwned + Send + Sync + 'static {}
impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> Cacheable for T {}

/// A miss's read from the database, a closure returning a future. It owns what it needs:
/// a stale hit runs it in the background.
pub trait Fetch<T, E>: Send + 'static {
    type Future: Future<Output = Result<Option<T>, E>> + Send + 'static;
    fn run(self) -> Self::Future;
}

impl<T, E, F, Fut> Fetch<T, E> for F
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<Option<T>, E>> + Send + 'static,
{
    type Future = Fut;
    fn run(self) -> Fut {
        self()
    }
}

/// What a fetch's error type must support: carrying a `CacheError`, and being cloned so
/// one failed load can answer every request that waited on it.
pub trait FetchError: From<CacheError> + std::fmt::Display + Clone + Send + Sync + 'static {}
impl<E: From<CacheError> + std::fmt::Display + Clone + Send + Sync + 'static> FetchError for E {}

#[derive(Clone)]
pub struct Cache(Arc<Inner>);

struct Inner {
    config: CacheConfig,
    l1: moka::future::Cache<String, Arc<Entry>>,
    l2: Option<L2>,
    refreshing: Mutex<HashSet<String>>,
    lookups: Lookups,
    /// Entries L1 dropped for size, also `levee_cache_l1_evictions_total`.
    evictions: Arc<AtomicU64>,
    generations: Generations,
    /// Invalidations waiting for Redis.
    backlog: Backlog,
    /// With replicas: how long after an invalidation to invalidate again.
    replica_lag: Option<Duration>,
    /// Without Redis: other instances' invalidations through the database.
    feed: Option<Feed>,
}

fn decode<T: DeserializeOwned + Send + Sync + 'static, E: From<CacheError>>(
    entry: &Entry,
) -> Result<Option<Arc<T>>, E> {
    entry.decode().map_err(|e| E::from(CacheError::Decode(e)))
}

/// A fetch's answer in the shape cached answers have.
async fn uncached<T, E>(
    fetched: impl Future<Output = Result<Option<T>, E>>,
) -> Result<Option<Arc<T>>, E> {
    Ok(fetched.await?.map(Arc::new))
}

impl Cache {
    /// `replica_lag`: the longest a replica in rotation may trail the primary (replicas
    /// configured), `None` when reads all come from the primary. `feed` serves only
    /// without Redis, whose channel does its job otherwise.
    pub fn new(
        config: &CacheConfig,
        redis: Option<RedisConn>,
        replica_lag: Option<Duration>,
        feed: Option<Feed>,
    ) -> Self {
        let feed = feed.filter(|_| redis.is_none());
        // With the feed L1 is the only tier and hears of every write: an entry lives as
        // long as it may be served, fresh (jittered up to +10%) then stale.
        let l1_ttl = match feed {
            Some(_) => config.ttl.get().mul_f64(1.1) + config.stale_while_revalidate.get(),
            None => config.l1_ttl.get(),
        };
        let evictions = Arc::new(AtomicU64::new(0));
        let evicted = evictions.clone();
        let l1 = moka::future::Cache::builder()
            .max_capacity(config.l1_capacity.bytes())
            .weigher(|key: &String, entry: &Arc<Entry>| {
                u32::try_from(key.len() + entry.weight()).unwrap_or(u32::MAX)
            })
            .time_to_live(l1_ttl)
            .eviction_listener(move |_, _, cause| {
                if cause == moka::notification::RemovalCause::Size {
                    evicted.fetch_add(1, Ordering::Relaxed);
                    metrics::counter!("levee_cache_l1_evictions_total").increment(1);
                }
            })
            .build();
        let l2 = redis.map(L2::new);
        Self(Arc::new(Inner {
            config: config.clone(),
            l1,
            l2,
            refreshing: Mutex::new(HashSet::new()),
            lookups: Lookups::default(),
            evictions,
            generations: Generations::new(),
            backlog: Backlog::new(config.invalidation_backlog.get() as usize),
            replica_lag,
            feed,
        }))
    }

    pub fn enabled(&self) -> bool {
        self.0.config.enabled
    }

    /// The Redis connection used for invalidation messages, when there is one.
    pub fn redis(&self) -> Option<&RedisConn> {
        self.0.l2.as_ref().map(L2::redis)
    }

    /// The database feed of invalidations, when this cache uses one (no Redis).
    pub fn feed(&self) -> Option<&Feed> {
        self.0.feed.as_ref()
    }

    /// Fetches this process ran (tests count stampedes with it).
    pub fn fetch_count(&self) -> u64 {
        self.lookups().misses
    }

    /// Lookups answered by a cache tier, and fetches, since the process started.
    pub fn lookups(&self) -> crate::stats::CacheStats {
        self.0.lookups.totals()
    }

    /// The value of `namespace`/`key`: from L1, else L2, else `fetch`, whose `None` (not
    /// found) is cached too. `fetch` owns what it needs: a stale hit runs it in the background.
    /// The value is shared: every hit on an L1 entry gets the same one, decoded once.
    pub async fn get_or_fetch<T: Cacheable, E: FetchError>(
        &self,
        namespace: &'static str,
        key: &str,
        fetch: impl Fetch<T, E>,
    ) -> Result<Option<Arc<T>>, E> {
        // Invalidations were dropped (Redis long gone): nothing cached can be trusted.
        if !self.enabled() || self.0.backlog.overflowed() {
            return Box::pin(uncached(fetch.run())).await;
        }
        let key = format!("{namespace}:{key}");
        let routing = crate::db::consistency::routing();
        if routing == ReadRouting::Anywhere
            && let Some(entry) = self.0.l1.get(&key).await
        {
            self.0.lookups.hit(Tier::L1, namespace, &entry);
            if !entry.is_fresh() {
                self.refresh_in_background(namespace, key, fetch);
            }
            return decode(&entry);
        }
        // Boxed: the way to the database is kilobytes of future, and inline every L1 hit's
        // future (and each one enclosing it) would carry that size and be copied with it.
        Box::pin(self.get_past_l1(namespace, key, routing, fetch)).await
    }

    /// L2, unless invalidations wait for Redis: its entries may be ones this instance
    /// could not delete, so it neither reads nor fills them until the replay.
    fn shared_tier(&self) -> Option<&L2> {
        self.0.l2.as_ref().filter(|_| self.0.backlog.is_clear())
    }

    /// Entries and bytes held in L1 (for metrics and the console). moka counts inserts
    /// and evictions in the background, so its pending maintenance runs first: without
    /// it a busy cache could report 0 entries.
    pub async fn l1_usage(&self) -> (u64, u64) {
        self.0.l1.run_pending_tasks().await;
        (self.0.l1.entry_count(), self.0.l1.weighted_size())
    }
}

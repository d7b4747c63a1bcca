//! Past L1: read-your-writes routing, L2 with the fleet-wide fetch lock, a miss's fetch
//! (stored in L2 unless its key was invalidated meanwhile) and the one background refresh
//! per key that serves stale.

use super::entry::{Entry, jittered, now_ms};
use super::lookups::Tier;
use super::{Cache, CacheError, Cacheable, Fetch, FetchError, decode, uncached};
use crate::db::consistency::ReadRouting;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an instance that lost the fetch lock polls Redis for the winner's result.
const LOCK_WAIT: Duration = Duration::from_millis(1000);
const LOCK_POLL: Duration = Duration::from_millis(20);

impl Cache {
    /// `get_or_fetch` when L1 has no answer, or may not give it (`routing`, the request's
    /// read-your-writes routing): then L2 and the fetch under moka's per-key load, which
    /// concurrent misses here wait for.
    pub(super) async fn get_past_l1<T: Cacheable, E: FetchError>(
        &self,
        namespace: &'static str,
        key: String,
        routing: ReadRouting,
        fetch: impl Fetch<T, E>,
    ) -> Result<Option<Arc<T>>, E> {
        match routing {
            ReadRouting::Anywhere => {}
            ReadRouting::Primary => return uncached(fetch.run()).await,
            ReadRouting::OwnWritesAt(written) => {
                return self.after_own_write(namespace, &key, written, fetch).await;
            }
        }
        let generation = self.0.generations.current(&key);
        let this = self.clone();
        let load_key = key.clone();
        let entry = self
            .0
            .l1
            .try_get_with(key.clone(), async move {
                this.load(namespace, load_key, fetch, generation)
                    .await
                    .map(Arc::new)
            })
            .await
            .map_err(|shared| (*shared).clone())?;
        // moka stores what the load returns: dropping it afterwards (not an error variant
        // moka skips) also covers an invalidation between the load's end and the insert.
        self.drop_if_moved(&key, generation).await;
        decode(&entry)
    }

    /// L1 missed: L2, then (holding the fleet-wide fetch lock) the database.
    async fn load<T: Cacheable, E: FetchError>(
        &self,
        namespace: &'static str,
        key: String,
        fetch: impl Fetch<T, E>,
        generation: u64,
    ) -> Result<Entry, E> {
        let Some(l2) = self.shared_tier() else {
            return self
                .fetch_and_store(namespace, &key, fetch, generation)
                .await;
        };
        // An entry another release stored in another shape is a miss, not an error: the
        // fetch below replaces it (decoding here also keeps the value for L1's hits).
        if let Some(entry) = l2.get(&key).await
            && entry.decode::<T>().is_ok()
        {
            self.0.lookups.hit(Tier::L2, namespace, &entry);
            if !entry.is_fresh() {
                self.refresh_in_background(namespace, key, fetch);
            }
            return Ok(entry);
        }
        if !l2.try_lock(&key).await {
            // Another instance is fetching this key: wait briefly for its result.
            let deadline = Instant::now() + LOCK_WAIT;
            while Instant::now() < deadline {
                tokio::time::sleep(LOCK_POLL).await;
                if let Some(entry) = l2.get(&key).await
                    && entry.decode::<T>().is_ok()
                {
                    self.0.lookups.hit(Tier::L2, namespace, &entry);
                    return Ok(entry);
                }
            }
        }
        let entry = self
            .fetch_and_store(namespace, &key, fetch, generation)
            .await;
        l2.unlock(&key).await;
        entry
    }

    pub(super) async fn fetch_and_store<T: Cacheable, E: FetchError>(
        &self,
        namespace: &'static str,
        key: &str,
        fetch: impl Fetch<T, E>,
        generation: u64,
    ) -> Result<Entry, E> {
        self.0.lookups.fetched(namespace);
        let filled_at = now_ms();
        let started = Instant::now();
        let value = fetch.run().await?;
        metrics::histogram!("levee_cache_fetch_duration_seconds", "namespace" => namespace)
            .record(started.elapsed().as_secs_f64());
        let config = &self.0.config;
        let fresh_for = if value.is_some() {
            jittered(config.ttl.get())
        } else {
            config.negative_ttl.get()
        };
        let entry =
            Entry::new(value, fresh_for, filled_at).map_err(|e| E::from(CacheError::Encode(e)))?;
        if let Some(l2) = self.shared_tier()
            && !self.0.generations.moved(key, generation)
        {
            l2.set(key, &entry, fresh_for + config.stale_while_revalidate.get())
                .await;
            // The invalidation may have deleted the key between the check and the set.
            if self.0.generations.moved(key, generation) {
                l2.delete(key).await;
            }
        }
        Ok(entry)
    }

    /// Serves stale while exactly one task per process refreshes the key.
    pub(super) fn refresh_in_background<T: Cacheable, E: FetchError>(
        &self,
        namespace: &'static str,
        key: String,
        fetch: impl Fetch<T, E>,
    ) {
        if !self
            .0
            .refreshing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone())
        {
            return;
        }
        let generation = self.0.generations.current(&key);
        let this = self.clone();
        tokio::spawn(async move {
            match this
                .fetch_and_store(namespace, &key, fetch, generation)
                .await
            {
                Ok(entry) if !this.0.generations.moved(&key, generation) => {
                    this.0.l1.insert(key.clone(), Arc::new(entry)).await;
                    this.drop_if_moved(&key, generation).await;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, cache.key = %key, "background cache refresh failed; serving stale")
                }
            }
            this.0
                .refreshing
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
        });
    }
}

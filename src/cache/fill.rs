//! Filling the cache from the database: a miss's fetch (stored in L2 unless its key was
//! invalidated meanwhile) and the one background refresh per key that serves stale.

use super::entry::{Entry, jittered, now_ms};
use super::{Cache, CacheError, FetchError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

impl Cache {
    pub(super) async fn fetch_and_store<T, E, F, Fut>(
        &self,
        namespace: &'static str,
        key: &str,
        fetch: F,
        generation: u64,
    ) -> Result<Entry, E>
    where
        T: Serialize + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>, E>>,
        E: FetchError,
    {
        self.0.lookups.fetched(namespace);
        let filled_at = now_ms();
        let started = Instant::now();
        let value = fetch().await?;
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
    pub(super) fn refresh_in_background<T, E, F, Fut>(
        &self,
        namespace: &'static str,
        key: String,
        fetch: F,
    ) where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Option<T>, E>> + Send + 'static,
        E: FetchError,
    {
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

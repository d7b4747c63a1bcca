//! Reads of a client that has just written (it presents a consistency token). The cache
//! may answer only with an entry whose database read began after the write; when reads
//! may come from a replica, that read reflects the primary only up to the replica lag
//! bound earlier, so the entry must be that much newer still. Otherwise the read goes
//! to the primary, around the cache (and is not stored: the cache keeps what replicas
//! serve everyone else).

use super::entry::Entry;
use super::lookups::Tier;
use super::{Cache, Cacheable, Fetch, FetchError, decode, uncached};
use std::sync::Arc;

impl Cache {
    /// `written`: the client's write time, unix milliseconds.
    pub(super) async fn after_own_write<T: Cacheable, E: FetchError>(
        &self,
        namespace: &'static str,
        key: &str,
        written: i64,
        fetch: impl Fetch<T, E>,
    ) -> Result<Option<Arc<T>>, E> {
        let lag = self
            .0
            .replica_lag
            .map_or(0, |lag| i64::try_from(lag.as_millis()).unwrap_or(i64::MAX));
        let reflects_write =
            |entry: &Entry| entry.is_fresh() && entry.filled_after(written.saturating_add(lag));
        let mut cached = self
            .0
            .l1
            .get(key)
            .await
            .filter(|entry| reflects_write(entry))
            .map(|entry| (Tier::L1, entry));
        if cached.is_none()
            && let Some(l2) = self.shared_tier()
        {
            cached = l2
                .get(key)
                .await
                .filter(|entry| reflects_write(entry) && entry.decode::<T>().is_ok())
                .map(|entry| (Tier::L2, Arc::new(entry)));
        }
        match cached {
            Some((tier, entry)) => {
                self.0.lookups.hit(tier, namespace, &entry);
                decode(&entry)
            }
            None => uncached(fetch.run()).await,
        }
    }
}

//! Counting lookups, once for Prometheus (`levee_cache_requests_total`) and once as plain
//! totals for the admin console, so the console's hit ratio is the one `/metrics` shows.

use super::entry::Entry;
use crate::stats::CacheStats;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub(super) struct Lookups {
    /// Answers from L1 or L2, fresh or stale.
    hits: AtomicU64,
    /// Fetches from the database (misses, and background refreshes of stale entries).
    fetches: AtomicU64,
}

impl Lookups {
    pub fn hit(&self, tier: &'static str, namespace: &'static str, entry: &Entry) {
        self.hits.fetch_add(1, Ordering::Relaxed);
        let result = if entry.is_fresh() { "hit" } else { "stale" };
        metrics::counter!("levee_cache_requests_total", "tier" => tier, "namespace" => namespace, "result" => result).increment(1);
    }

    pub fn fetched(&self, namespace: &'static str) {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("levee_cache_requests_total", "tier" => "db", "namespace" => namespace, "result" => "miss").increment(1);
    }

    pub fn totals(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.fetches.load(Ordering::Relaxed),
        }
    }
}

//! Counting lookups, once for Prometheus (`levee_cache_requests_total`) and once as plain
//! totals and per-namespace counts for the admin console, so the console's hit ratios are
//! the ones `/metrics` shows.

use super::entry::Entry;
use crate::stats::{CacheStats, NamespaceLookups};
use metrics::Counter;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// One namespace's counts: plain totals for the console, and its `levee_cache_requests_total`
/// series, looked up once (a labelled `counter!` hashes its labels on every call, and hits
/// are counted on every cached read).
struct NamespaceCounters {
    l1_hits: AtomicU64,
    l2_hits: AtomicU64,
    stale: AtomicU64,
    fetches: AtomicU64,
    /// By tier (L1, L2) and freshness (fresh, stale).
    hit_series: [[Counter; 2]; 2],
    miss_series: Counter,
}

impl NamespaceCounters {
    fn new(namespace: &'static str) -> Self {
        let series = |tier: &'static str, result: &'static str| metrics::counter!("levee_cache_requests_total", "tier" => tier, "namespace" => namespace, "result" => result);
        Self {
            l1_hits: AtomicU64::default(),
            l2_hits: AtomicU64::default(),
            stale: AtomicU64::default(),
            fetches: AtomicU64::default(),
            hit_series: [
                [series("l1", "hit"), series("l1", "stale")],
                [series("l2", "hit"), series("l2", "stale")],
            ],
            miss_series: series("db", "miss"),
        }
    }
}

#[derive(Default)]
pub(super) struct Lookups {
    /// Answers from L1 or L2, fresh or stale.
    hits: AtomicU64,
    /// Fetches from the database (misses, and background refreshes of stale entries).
    fetches: AtomicU64,
    /// By namespace: a closed set, the `&'static str`s the features cache under.
    namespaces: RwLock<HashMap<&'static str, Arc<NamespaceCounters>>>,
}

/// The cache tier that answered a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tier {
    L1,
    L2,
}

impl Lookups {
    pub fn hit(&self, tier: Tier, namespace: &'static str, entry: &Entry) {
        self.hits.fetch_add(1, Ordering::Relaxed);
        let fresh = entry.is_fresh();
        let counters = self.of(namespace);
        let (tier_index, tier_hits) = match tier {
            Tier::L1 => (0, &counters.l1_hits),
            Tier::L2 => (1, &counters.l2_hits),
        };
        counters.hit_series[tier_index][usize::from(!fresh)].increment(1);
        tier_hits.fetch_add(1, Ordering::Relaxed);
        if !fresh {
            counters.stale.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn fetched(&self, namespace: &'static str) {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let counters = self.of(namespace);
        counters.miss_series.increment(1);
        counters.fetches.fetch_add(1, Ordering::Relaxed);
    }

    pub fn totals(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.fetches.load(Ordering::Relaxed),
        }
    }

    /// Every namespace looked up since start, sorted by name.
    pub fn by_namespace(&self) -> Vec<NamespaceLookups> {
        let namespaces = self.namespaces.read().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<NamespaceLookups> = namespaces
            .iter()
            .map(|(namespace, c)| NamespaceLookups {
                namespace: (*namespace).to_string(),
                l1_hits: c.l1_hits.load(Ordering::Relaxed),
                l2_hits: c.l2_hits.load(Ordering::Relaxed),
                stale: c.stale.load(Ordering::Relaxed),
                fetches: c.fetches.load(Ordering::Relaxed),
            })
            .collect();
        all.sort_by(|a, b| a.namespace.cmp(&b.namespace));
        all
    }

    fn of(&self, namespace: &'static str) -> Arc<NamespaceCounters> {
        let found = self
            .namespaces
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(namespace)
            .cloned();
        found.unwrap_or_else(|| {
            let mut namespaces = self.namespaces.write().unwrap_or_else(|e| e.into_inner());
            namespaces
                .entry(namespace)
                .or_insert_with(|| Arc::new(NamespaceCounters::new(namespace)))
                .clone()
        })
    }
}

//! Counting lookups, once for Prometheus (`levee_cache_requests_total`) and once as plain
//! totals and per-namespace counts for the admin console, so the console's hit ratios are
//! the ones `/metrics` shows.

use super::entry::Entry;
use crate::stats::{CacheStats, NamespaceLookups};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

#[derive(Default)]
struct NamespaceCounters {
    l1_hits: AtomicU64,
    l2_hits: AtomicU64,
    stale: AtomicU64,
    fetches: AtomicU64,
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

impl Lookups {
    pub fn hit(&self, tier: &'static str, namespace: &'static str, entry: &Entry) {
        self.hits.fetch_add(1, Ordering::Relaxed);
        let fresh = entry.is_fresh();
        let result = if fresh { "hit" } else { "stale" };
        metrics::counter!("levee_cache_requests_total", "tier" => tier, "namespace" => namespace, "result" => result).increment(1);
        let counters = self.of(namespace);
        let tier_hits = if tier == "l1" {
            &counters.l1_hits
        } else {
            &counters.l2_hits
        };
        tier_hits.fetch_add(1, Ordering::Relaxed);
        if !fresh {
            counters.stale.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn fetched(&self, namespace: &'static str) {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("levee_cache_requests_total", "tier" => "db", "namespace" => namespace, "result" => "miss").increment(1);
        self.of(namespace).fetches.fetch_add(1, Ordering::Relaxed);
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
            namespaces.entry(namespace).or_default().clone()
        })
    }
}

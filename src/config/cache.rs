//! The `[cache]` section: the two-tier data cache and HTTP caching of public reads.

use super::{Duration, IntIn, Size};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Off: every read goes to the database (HTTP caching headers are still sent).
    pub enabled: bool,
    /// Memory the in-process tier (L1) may use.
    pub l1_capacity: Size,
    /// How long an entry stays in L1; short, because other instances' writes reach it
    /// only through invalidation messages.
    pub l1_ttl: Duration,
    /// How long an entry stays fresh in Redis (L2), ±10% jitter.
    pub ttl: Duration,
    /// After expiry an entry may still be served for this long while one refresh runs.
    pub stale_while_revalidate: Duration,
    /// How long "not found" is remembered (floods of bad slugs).
    pub negative_ttl: Duration,
    /// `Cache-Control` of public reads (posts, products).
    pub public_cache_control: String,
    /// Invalidations held while Redis is unreachable, replayed when it answers. Past
    /// this many, L1 is cleared and the cache bypassed until Redis answers and every
    /// cached entry there has been dropped. Bounded, so an outage under a write storm
    /// costs fixed memory (a few hundred KiB at the default).
    pub invalidation_backlog: IntIn<1, 1_000_000>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            l1_capacity: Size::mib(64),
            l1_ttl: Duration::secs(5),
            ttl: Duration::secs(300),
            stale_while_revalidate: Duration::secs(60),
            negative_ttl: Duration::secs(30),
            public_cache_control:
                "public, max-age=0, s-maxage=300, stale-while-revalidate=60, stale-if-error=86400"
                    .into(),
            invalidation_backlog: IntIn::new(10_000),
        }
    }
}

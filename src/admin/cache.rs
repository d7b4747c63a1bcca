//! The cache page: hit ratios per namespace and tier, L1's size and evictions, Redis
//! errors, and purging a key or a namespace (through the cache's own invalidation, so
//! every instance forgets it). After a purge the page shows one of a closed set of
//! notices, named in the redirect's `?notice=`.

use super::figures::percent;
use super::pages::Chrome;
use crate::cache::{PurgeError, Purged};
use crate::state::AppState;
use crate::stats::StatsSnapshot;
use askama::Template;

/// `?notice=` values and what each says.
const NOTICES: [(&str, &str); 2] = [
    ("purged", "Purged on every instance."),
    (
        "purged-locally",
        "Redis failed: purged from this instance's L1 only; try again.",
    ),
];

pub struct NamespaceRow {
    pub namespace: String,
    pub lookups: u64,
    pub l1: String,
    pub l2: String,
    pub hit_ratio: String,
    pub stale: u64,
    pub fetches: u64,
}

#[derive(Template)]
#[template(path = "admin/cache.html")]
pub struct CachePage {
    pub chrome: Chrome,
    pub csrf_token: String,
    pub notice: Option<&'static str>,
    pub hit_ratio: String,
    pub namespaces: Vec<NamespaceRow>,
    pub l1_entries: u64,
    pub l1_mib: String,
    pub l1_evictions: u64,
    pub redis_errors: Vec<(String, u64)>,
    pub has_l2: bool,
}

impl CachePage {
    /// `has_l2`: Redis is configured, so L2 has a hit ratio of its own.
    pub fn new(chrome: Chrome, snap: &StatsSnapshot, has_l2: bool, notice: Option<&str>) -> Self {
        let detail = &snap.cache_detail;
        let csrf_token = chrome
            .user
            .as_ref()
            .map(|u| u.csrf_token.clone())
            .unwrap_or_default();
        Self {
            chrome,
            csrf_token,
            notice: NOTICES
                .iter()
                .find(|(name, _)| Some(*name) == notice)
                .map(|(_, text)| *text),
            hit_ratio: percent(snap.cache.hit_ratio()),
            namespaces: detail
                .namespaces
                .iter()
                .map(|n| NamespaceRow {
                    namespace: n.namespace.clone(),
                    lookups: n.lookups(),
                    l1: percent(n.l1_ratio()),
                    l2: if has_l2 {
                        percent(n.l2_ratio())
                    } else {
                        "–".into()
                    },
                    hit_ratio: percent(n.hit_ratio()),
                    stale: n.stale,
                    fetches: n.fetches,
                })
                .collect(),
            l1_entries: detail.l1_entries,
            l1_mib: format!("{:.2}", detail.l1_bytes as f64 / (1024.0 * 1024.0)),
            l1_evictions: detail.l1_evictions,
            redis_errors: detail
                .redis_errors
                .iter()
                .map(|(user, n)| (user.clone(), *n))
                .collect(),
            has_l2,
        }
    }
}

/// Purges `key` of `namespace` (the whole namespace when `key` is blank); the notice to
/// redirect with.
pub async fn purge(
    state: &AppState,
    namespace: &str,
    key: &str,
) -> Result<&'static str, PurgeError> {
    let purged = state.cache().purge(namespace.trim(), key.trim()).await?;
    Ok(match purged {
        Purged::Everywhere => NOTICES[0].0,
        Purged::ThisProcessOnly => NOTICES[1].0,
    })
}

/// Whether this process has an L2 (Redis); without one, L2 has no hit ratio to show.
pub fn has_l2(state: &AppState) -> bool {
    state.redis().is_some()
}

//! What the admin console asks of the cache: a report of its tiers, and purging one key or
//! a whole namespace through the same invalidation path writes use, so every instance of a
//! fleet forgets it (a namespace goes out as one message that each instance applies to its
//! own L1, beside a scan that deletes its entries from Redis).

use super::Cache;
use crate::stats::CacheDetail;
use std::sync::atomic::Ordering;

const MAX_NAMESPACE: usize = 32;
const MAX_KEY: usize = 256;

/// A purge request the cache refuses: the operator typed something no key can be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurgeError {
    #[error("a namespace is 1 to {MAX_NAMESPACE} lowercase letters, digits, '_' or '-'")]
    Namespace,
    #[error("a key is at most {MAX_KEY} characters, without control characters")]
    Key,
}

/// How far a purge reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purged {
    /// Every instance (a key waiting for Redis is sent once it answers).
    Everywhere,
    /// Redis failed: only this instance's L1 forgot the namespace.
    ThisProcessOnly,
}

impl Cache {
    /// Lookups per namespace, L1's size and evictions, and Redis errors by user.
    pub async fn detail(&self) -> CacheDetail {
        let (l1_entries, l1_bytes) = self.l1_usage().await;
        CacheDetail {
            namespaces: self.0.lookups.by_namespace(),
            l1_entries,
            l1_bytes,
            l1_evictions: self.0.evictions.load(Ordering::Relaxed),
            redis_errors: self.redis().map(|r| r.error_counts()).unwrap_or_default(),
        }
    }

    /// Forgets `key` of `namespace` everywhere, or the whole namespace when `key` is empty.
    pub async fn purge(&self, namespace: &str, key: &str) -> Result<Purged, PurgeError> {
        let valid_namespace = (1..=MAX_NAMESPACE).contains(&namespace.len())
            && namespace
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !valid_namespace {
            return Err(PurgeError::Namespace);
        }
        if key.len() > MAX_KEY || key.chars().any(char::is_control) {
            return Err(PurgeError::Key);
        }
        if !key.is_empty() {
            self.invalidate(namespace, key).await;
            return Ok(Purged::Everywhere);
        }
        self.drop_namespace_l1(namespace).await;
        if let Some(feed) = &self.0.feed {
            let message = format!("{}{namespace}", super::invalidation::NAMESPACE_MARK);
            feed.publish(&message).await;
        }
        Ok(match &self.0.l2 {
            Some(l2) if !l2.purge_namespace(namespace).await => Purged::ThisProcessOnly,
            _ => Purged::Everywhere,
        })
    }

    /// Drops every L1 entry of `namespace`.
    pub(super) async fn drop_namespace_l1(&self, namespace: &str) {
        // A fill in flight may hold one of its old rows and no key to bump is known for
        // it yet: supersede every fill (they still answer their callers).
        self.0.generations.bump_all();
        let prefix = format!("{namespace}:");
        let keys: Vec<_> = self
            .0
            .l1
            .iter()
            .map(|(key, _)| key)
            .filter(|key| key.starts_with(&prefix))
            .collect();
        for key in keys {
            self.0.l1.invalidate(key.as_str()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CacheConfig;

    #[tokio::test]
    async fn purging_a_namespace_drops_its_entries_only() {
        let cache = Cache::new(&CacheConfig::default(), None, None, None);
        for (namespace, key) in [("post", "a"), ("post", "b"), ("product", "a")] {
            let fetched: Result<Option<std::sync::Arc<String>>, crate::cache::CacheError> = cache
                .get_or_fetch(namespace, key, || async { Ok(Some("row".to_string())) })
                .await;
            assert!(fetched.is_ok());
        }
        cache.0.l1.run_pending_tasks().await;
        assert_eq!(cache.purge("post", "").await, Ok(Purged::Everywhere));
        cache.0.l1.run_pending_tasks().await;
        let mut left: Vec<String> = cache.0.l1.iter().map(|(k, _)| (*k).clone()).collect();
        left.sort();
        assert_eq!(left, ["product:a"]);
        assert_eq!(cache.purge("Post", "").await, Err(PurgeError::Namespace));
        assert_eq!(cache.purge("post", "a\nb").await, Err(PurgeError::Key));
        assert_eq!(
            cache.purge("post", &"k".repeat(257)).await,
            Err(PurgeError::Key)
        );
    }
}

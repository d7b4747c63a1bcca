//! The cache shape the public read paths share: items by key, plus the default first page
//! of the list (which takes nearly all list traffic), and one invalidation for both.

use super::{Cache, Cacheable, Fetch, FetchError};
use crate::db::pagination::DEFAULT_LIMIT;
use std::future::Future;
use std::sync::Arc;

const FIRST_PAGE: &str = "first";

/// A feature's cached items (namespace `item`) and list pages (namespace `lists`).
pub struct CachedCollection {
    item: &'static str,
    lists: &'static str,
}

impl CachedCollection {
    pub const fn new(item: &'static str, lists: &'static str) -> Self {
        Self { item, lists }
    }

    /// The item at `key`, from the cache or from `fetch` (which owns what it needs),
    /// shared with every other reader of the cached copy.
    pub async fn item<T: Cacheable, E: FetchError>(
        &self,
        cache: &Cache,
        key: &str,
        fetch: impl Fetch<T, E>,
    ) -> Result<Option<Arc<T>>, E> {
        cache.get_or_fetch(self.item, key, fetch).await
    }

    /// A list page of `rows` rows (one more than a page, to know if another follows).
    /// Cached only when it is the default first page (`first` and the default size).
    pub async fn page<T, E, F, Fut>(
        &self,
        cache: &Cache,
        first: bool,
        rows: u64,
        fetch: F,
    ) -> Result<Vec<T>, E>
    where
        T: Cacheable + Clone,
        E: FetchError,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<T>, E>> + Send + 'static,
    {
        if !first || rows != DEFAULT_LIMIT + 1 {
            return fetch().await;
        }
        let fetch = move || async move { fetch().await.map(Some) };
        Ok(cache
            .get_or_fetch(self.lists, FIRST_PAGE, fetch)
            .await?
            .map(Arc::unwrap_or_clone)
            .unwrap_or_default())
    }

    /// After a write to the items at `keys` (old and new key on a rename).
    pub async fn invalidate(&self, cache: &Cache, keys: &[&str]) {
        for key in keys {
            cache.invalidate(self.item, key).await;
        }
        cache.invalidate(self.lists, FIRST_PAGE).await;
    }
}

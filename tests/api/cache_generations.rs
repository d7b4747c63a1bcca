//! A cache fill that read the old value must not outlive an invalidation that happened
//! while it was fetching: not in L1, not in Redis (L2), not from a stale-while-revalidate
//! refresh. The fill still answers its own caller with what it read.

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use levee::cache::{Cache, CacheError};
use levee::config::Duration as ConfigDuration;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, oneshot};

#[derive(Debug, Clone)]
struct Failed;

impl From<CacheError> for Failed {
    fn from(_: CacheError) -> Self {
        Failed
    }
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fetch failed")
    }
}

async fn read(cache: &Cache, key: &str, value: u64) -> Option<u64> {
    cache
        .get_or_fetch("generations", key, move || async move {
            Ok::<_, Failed>(Some(value))
        })
        .await
        .expect("read")
        .map(|value| *value)
}

/// Reads `key` with a fetch that reports having started and then waits for `proceed`.
fn blocked_read(
    cache: &Cache,
    key: &'static str,
    value: u64,
    proceed: Arc<Notify>,
) -> (oneshot::Receiver<()>, tokio::task::JoinHandle<Option<u64>>) {
    let (started, fetching) = oneshot::channel();
    let cache = cache.clone();
    let task = tokio::spawn(async move {
        cache
            .get_or_fetch("generations", key, move || async move {
                let _ = started.send(());
                proceed.notified().await;
                Ok::<_, Failed>(Some(value))
            })
            .await
            .expect("read")
            .map(|value| *value)
    });
    (fetching, task)
}

async fn a_fill_older_than_an_invalidation_is_not_stored(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let cache = app.state.cache();
    let proceed = Arc::new(Notify::new());
    let (fetching, fill) = blocked_read(cache, "edited", 1, proceed.clone());
    fetching.await.expect("fetch started");
    cache.invalidate("generations", "edited").await;
    proceed.notify_one();
    assert_eq!(
        fill.await.expect("task"),
        Some(1),
        "the fill answers its caller"
    );
    let before = cache.fetch_count();
    assert_eq!(
        read(cache, "edited", 2).await,
        Some(2),
        "the old value was kept"
    );
    assert_eq!(cache.fetch_count() - before, 1);
}

async fn a_stale_refresh_older_than_an_invalidation_is_not_stored(backend: Backend) {
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| {
            c.cache.ttl = ConfigDuration::millis(50);
            c.cache.stale_while_revalidate = ConfigDuration::secs(30);
        },
        None,
    )
    .await
    else {
        return;
    };
    let cache = app.state.cache();
    assert_eq!(read(cache, "refreshed", 1).await, Some(1));
    tokio::time::sleep(Duration::from_millis(120)).await;
    let proceed = Arc::new(Notify::new());
    let (fetching, stale) = blocked_read(cache, "refreshed", 2, proceed.clone());
    // Bounded: were the entry gone rather than stale, this read would fetch and wait for
    // `proceed` below, and the test would hang instead of failing.
    let stale = tokio::time::timeout(Duration::from_secs(10), stale)
        .await
        .expect("the stale entry was served without waiting for the refresh");
    assert_eq!(stale.expect("task"), Some(1), "served stale");
    fetching.await.expect("refresh started");
    cache.invalidate("generations", "refreshed").await;
    proceed.notify_one();
    // Let the background refresh finish (and, before the fix, store its old value).
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        read(cache, "refreshed", 3).await,
        Some(3),
        "the refresh's value was kept"
    );
}

backend_tests!(
    a_fill_older_than_an_invalidation_is_not_stored,
    a_stale_refresh_older_than_an_invalidation_is_not_stored,
);

//! Without Redis, instances sharing a database hear of each other's writes through it
//! (`cache_invalidations`), so L1 keeps entries for the whole cache TTL rather than
//! refetching every key every `cache.l1_ttl`.

use crate::backend_tests;
use crate::cache::published;
use crate::helpers::{Backend, TestApp};
use levee::config::{Config, Duration as ConfigDuration};
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// No Redis, a long cache TTL and a short `l1_ttl` (which the feed makes moot).
fn without_redis(c: &mut Config) {
    c.redis.url = None;
    c.cache.ttl = ConfigDuration::secs(300);
    c.cache.l1_ttl = ConfigDuration::millis(100);
}

async fn body(app: &TestApp, path: &str) -> Value {
    app.get(path).await.json::<Value>().await.expect("json")["body"].clone()
}

async fn an_entry_outlives_l1_ttl_when_nothing_changes(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, without_redis, None).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let slug = published(&app, &editor, "Kept").await;
    let path = format!("/posts/{slug}");
    assert_eq!(body(&app, &path).await, "v1");
    let fetched = app.state.cache().fetch_count();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(body(&app, &path).await, "v1");
    assert_eq!(
        app.state.cache().fetch_count(),
        fetched,
        "served from L1 after l1_ttl"
    );
}

/// A long `l1_ttl` as well: only the feed can make an instance drop its copy.
fn without_redis_long_l1(c: &mut Config) {
    without_redis(c);
    c.cache.l1_ttl = ConfigDuration::secs(300);
}

async fn an_update_on_one_instance_reaches_the_other_through_the_database(backend: Backend) {
    let Some(a) = TestApp::spawn_with(backend, without_redis_long_l1, None).await else {
        return;
    };
    let b = a.spawn_sibling_with(backend, without_redis_long_l1).await;
    let editor = a.account(Role::Editor).await;
    let slug = published(&a, &editor, "Fed").await;
    let path = format!("/posts/{slug}");
    assert_eq!(body(&b, &path).await, "v1");
    let patched = a
        .send_as(
            Method::PATCH,
            &path,
            &editor.access,
            Some(json!({"body": "v2"})),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let changed = Instant::now();
    // One poll interval (250 ms) plus room for a loaded machine.
    let mut seen_new = false;
    while changed.elapsed() < Duration::from_secs(2) && !seen_new {
        seen_new = body(&b, &path).await == "v2";
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen_new, "B served v2 within 2 s");
    assert_eq!(body(&b, &path).await, "v2", "and keeps serving it");
    // A purged namespace reaches the other instance too.
    let fetched = b.state.cache().fetch_count();
    assert!(matches!(
        a.state.cache().purge("post", "").await,
        Ok(levee::cache::Purged::Everywhere)
    ));
    let purged = Instant::now();
    while b.state.cache().fetch_count() == fetched && purged.elapsed() < Duration::from_secs(2) {
        body(&b, &path).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        b.state.cache().fetch_count() > fetched,
        "B refetched after the purge"
    );
}

backend_tests!(
    an_entry_outlives_l1_ttl_when_nothing_changes,
    an_update_on_one_instance_reaches_the_other_through_the_database,
);

//! The data cache on one instance: single-flight, writes visible at once, disabling it,
//! serving stale while one refresh runs; and HTTP caching of public reads. The Redis
//! tier shared by a fleet is in `cache_redis.rs`.

use crate::backend_tests;
use crate::helpers::orders::eventually;
use crate::helpers::{Backend, Session, TestApp};
use levee::config::{Config, Duration as ConfigDuration};
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

pub(crate) async fn published(app: &TestApp, editor: &Session, title: &str) -> String {
    let post: Value = app
        .send_as(
            Method::POST,
            "/posts",
            &editor.access,
            Some(json!({"title": title, "body": "v1"})),
        )
        .await
        .json()
        .await
        .expect("json");
    let slug = post["slug"].as_str().expect("slug").to_string();
    crate::posts::publish_response(app, editor, &slug).await;
    slug
}

/// Edits the post at `path` through the API (which invalidates the cache).
pub(crate) async fn edit_body(
    app: &TestApp,
    editor: &Session,
    path: &str,
    body: &str,
) -> reqwest::Response {
    let resp = app
        .send_as(
            Method::PATCH,
            path,
            &editor.access,
            Some(json!({ "body": body })),
        )
        .await;
    assert_eq!(resp.status(), 200);
    resp
}

/// Sets the post's body in the database without invalidating the cache.
pub(crate) async fn change_behind_the_cache(app: &TestApp, slug: &str, body: &str) {
    let changes = levee::posts::PostChanges {
        body: Some(body.into()),
        ..Default::default()
    };
    let addressed = levee::posts::Slug::parse(slug).expect("slug");
    levee::posts::update(app.state.db().write(), &addressed, changes, None)
        .await
        .expect("update");
}

pub(crate) async fn concurrent_gets(apps: &[&TestApp], path: &str, count: usize) -> Vec<u16> {
    let requests = (0..count).map(|i| {
        let app = apps[i % apps.len()];
        let (client, url) = (app.client.clone(), app.url(path));
        tokio::spawn(async move {
            client
                .get(url)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        })
    });
    futures_util::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect()
}

async fn a_cold_key_under_200_concurrent_reads_is_fetched_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let slug = published(&app, &editor, "Stampede").await;
    let before = app.state.cache().fetch_count();
    let statuses = concurrent_gets(&[&app], &format!("/posts/{slug}"), 200).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(app.state.cache().fetch_count() - before, 1, "single flight");
    let unknown = concurrent_gets(&[&app], "/posts/no-such-post", 50).await;
    assert!(unknown.iter().all(|s| *s == 404));
    assert_eq!(
        app.state.cache().fetch_count() - before,
        2,
        "not found is cached too"
    );
}

async fn http_caching_headers_etags_and_304(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let slug = published(&app, &editor, "Conditional").await;
    let path = format!("/posts/{slug}");
    let first = app.get(&path).await;
    let header = |r: &reqwest::Response, n: &str| {
        r.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let etag = header(&first, "etag");
    assert!(etag.starts_with("\"post-") && etag.ends_with('"'), "{etag}");
    assert_eq!(
        header(&first, "cache-control"),
        "public, max-age=0, s-maxage=300, stale-while-revalidate=60, stale-if-error=86400"
    );
    assert_eq!(header(&first, "vary"), "Accept-Encoding");
    assert!(header(&first, "surrogate-key").contains("posts"));
    assert!(header(&first, "last-modified").ends_with(" GMT"));
    let head = app.client.head(app.url(&path)).send().await.expect("head");
    assert_eq!(header(&head, "etag"), etag, "HEAD and GET agree");

    let conditional = app
        .client
        .get(app.url(&path))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(conditional.status(), 304);
    assert!(conditional.bytes().await.expect("body").is_empty());
    let since = app
        .client
        .get(app.url(&path))
        .header("if-modified-since", header(&first, "last-modified"))
        .send()
        .await
        .expect("request");
    assert_eq!(since.status(), 304);

    edit_body(&app, &editor, &path, "v2").await;
    let after = app
        .client
        .get(app.url(&path))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(after.status(), 200, "the edit changed the ETag");
    assert_ne!(header(&after, "etag"), etag);
    assert_eq!(after.json::<Value>().await.expect("json")["body"], "v2");

    let missing = app.get("/posts/not-here").await;
    assert_eq!(header(&missing, "cache-control"), "no-store");
    let signed_in = app.get_as(&path, &editor.access).await;
    assert_eq!(header(&signed_in, "cache-control"), "private, no-store");
    let list = app.get("/posts").await;
    assert!(header(&list, "etag").starts_with("\"posts-"));
    let product_list = app.get("/products").await;
    assert!(header(&product_list, "cache-control").starts_with("public"));
}

async fn writes_are_visible_at_once_on_the_writing_instance(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let create = app.send_as(Method::POST, "/products", &admin.access, Some(json!({"sku": "CACHED", "name": "Before", "price": {"amount": 100, "currency": "EUR"}, "stock": 5}))).await;
    assert_eq!(create.status(), 201);
    assert_eq!(app.get_json("/products/CACHED").await["name"], "Before");
    app.send_as(
        Method::PATCH,
        "/products/CACHED",
        &admin.access,
        Some(json!({"name": "After"})),
    )
    .await;
    assert_eq!(app.get_json("/products/CACHED").await["name"], "After");
    app.send_as(
        Method::POST,
        "/products/CACHED/stock-adjustments",
        &admin.access,
        Some(json!({"delta": 3, "reason": "delivery"})),
    )
    .await;
    assert_eq!(app.get_json("/products/CACHED").await["available"], 8);
    let listed: Value = app.get("/products").await.json().await.expect("json");
    assert_eq!(
        listed["items"][0]["available"], 8,
        "the cached first page was invalidated too"
    );
}

async fn disabling_the_cache_sends_every_read_to_the_database(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.cache.enabled = false, None).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let slug = published(&app, &editor, "Uncached").await;
    let before = app.state.cache().fetch_count();
    concurrent_gets(&[&app], &format!("/posts/{slug}"), 5).await;
    assert_eq!(
        app.state.cache().fetch_count(),
        before,
        "the cache is bypassed entirely"
    );
}

async fn expired_entries_are_served_stale_while_one_refresh_runs(backend: Backend) {
    // The TTL is long enough that the refreshed entry cannot expire again while the test
    // reads it, even on a loaded machine (a 200 ms TTL once made a second refresh here).
    let ttl = Duration::from_secs(2);
    let tweak = move |c: &mut Config| {
        c.cache.ttl = ConfigDuration::millis(ttl.as_millis() as u64);
        c.cache.l1_ttl = ConfigDuration::secs(30);
        c.cache.stale_while_revalidate = ConfigDuration::secs(30);
    };
    let Some(app) = TestApp::spawn_with(backend, tweak, None).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let slug = published(&app, &editor, "Stale").await;
    let path = format!("/posts/{slug}");
    assert_eq!(body_of(&app, &path).await, "v1");
    // Change the row behind the cache's back (no invalidation), then let the entry expire.
    change_behind_the_cache(&app, &slug, "v2").await;
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    let before = app.state.cache().fetch_count();
    let stale = concurrent_gets(&[&app], &path, 20).await;
    assert!(stale.iter().all(|s| *s == 200));
    eventually("the background refresh lands", || async {
        body_of(&app, &path).await == "v2"
    })
    .await;
    assert_eq!(
        app.state.cache().fetch_count() - before,
        1,
        "one background refresh for all stale reads"
    );
}

async fn body_of(app: &TestApp, path: &str) -> String {
    let post: Value = app.get(path).await.json().await.expect("json");
    post["body"].as_str().expect("body").to_string()
}

backend_tests!(
    expired_entries_are_served_stale_while_one_refresh_runs,
    a_cold_key_under_200_concurrent_reads_is_fetched_once,
    http_caching_headers_etags_and_304,
    writes_are_visible_at_once_on_the_writing_instance,
    disabling_the_cache_sends_every_read_to_the_database,
);

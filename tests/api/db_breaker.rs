//! The primary's circuit breaker (issue 14), with the primary behind a proxy the test cuts:
//! once the breaker opens, uncached reads answer 503 + `Retry-After` at once instead of
//! each waiting `database.acquire_timeout`, cached reads keep answering, `/ready` reports
//! the database down; after the proxy comes back, the first probe closes the breaker.
//! Query errors (a taken slug) never open it.

use crate::helpers::{Backend, DB_ENV, TestApp, env_url, skip, through};
use crate::replicas::{metric, wait_for_metric};
use crate::tcp_proxy::TcpProxy;
use levee::config::{Duration as ConfigDuration, IntIn};
use levee::users::Role;
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

const PRIMARY: &str = "pool=\"primary\"";
const FAILURE_THRESHOLD: u64 = 3;

/// The app with its primary pool behind `proxy` (the migrated database itself is reached
/// directly by the test harness).
async fn spawn_behind(proxy: &TcpProxy) -> Option<TestApp> {
    let proxied = format!("postgres://127.0.0.1:{}", proxy.port());
    TestApp::spawn_with(
        Backend::Postgres,
        move |c| {
            c.database.url = through(&proxied, &c.database.url);
            c.database.direct_url = None;
            c.database.acquire_timeout = ConfigDuration::secs(5);
            c.database.breaker.failure_threshold = IntIn::new(FAILURE_THRESHOLD);
            c.database.breaker.open_for = ConfigDuration::secs(2);
            // Cached entries outlive the outage, so only uncached reads need the primary.
            c.cache.l1_ttl = ConfigDuration::secs(120);
        },
        None,
    )
    .await
}

/// `host:port` of the test PostgreSQL server, or `None` after a skip notice.
fn postgres_server() -> Option<String> {
    let Some(url) = env_url(DB_ENV) else {
        skip("the primary breaker test", DB_ENV);
        return None;
    };
    let url = url::Url::parse(&url).expect("url");
    Some(format!(
        "{}:{}",
        url.host_str().expect("host"),
        url.port().unwrap_or(5432)
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_primary_fails_uncached_reads_at_once_and_recovers_after_the_cool_down() {
    let Some(server) = postgres_server() else {
        return;
    };
    let proxy = TcpProxy::start(&server).await;
    let Some(app) = spawn_behind(&proxy).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let slug = crate::cache::published(&app, &editor, "Breaker").await;
    assert_eq!(app.get(&format!("/posts/{slug}")).await.status(), 200);
    let rejected_before = metric(&app, "levee_db_breaker_rejections_total", PRIMARY)
        .await
        .unwrap_or(0.0);

    proxy.kill();
    // The reads that find the primary gone wait out the acquire timeout; they open it.
    let started = Instant::now();
    let first: Vec<_> = (0..FAILURE_THRESHOLD)
        .map(|i| app.spawn_get(&format!("/posts/gone-{i}")))
        .collect();
    for read in first {
        let response = read.await.expect("join").expect("response");
        assert_eq!(response.status(), 503);
    }
    eprintln!(
        "the reads that opened the breaker took {:?}",
        started.elapsed()
    );
    wait_for_metric(
        &app,
        "levee_db_breaker_state",
        PRIMARY,
        2.0,
        Duration::from_secs(1),
    )
    .await;

    let mut slowest = Duration::ZERO;
    for i in 0..10 {
        let started = Instant::now();
        let response = app.get(&format!("/posts/missing-{i}")).await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(response.status(), 503);
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!(
            (1..=2).contains(&retry_after),
            "until the probe: {retry_after}"
        );
        let body = crate::helpers::problem(response, 503).await;
        assert_eq!(body["type"], "urn:levee:problem:unavailable");
    }
    eprintln!("slowest rejected read: {slowest:?} (acquire_timeout 5s)");
    assert!(
        slowest < Duration::from_millis(500),
        "fails at once: {slowest:?}"
    );
    assert_eq!(
        app.get(&format!("/posts/{slug}")).await.status(),
        200,
        "cached reads keep answering"
    );
    let rejected = metric(&app, "levee_db_breaker_rejections_total", PRIMARY).await;
    assert!(rejected >= Some(rejected_before + 10.0), "{rejected:?}");
    // A round that began before the breaker opened may still report the slow failure.
    wait_for_ready(&app, |status, body| {
        let database = body["checks"]["database"].as_str().unwrap_or_default();
        status == 503 && database.contains("circuit breaker primary is open")
    })
    .await;

    proxy.revive();
    let revived = Instant::now();
    while app.get("/posts/missing-after").await.status() == 503 {
        assert!(revived.elapsed() < Duration::from_secs(10), "never closed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "uncached reads answered again {:?} after the primary came back",
        revived.elapsed()
    );
    wait_for_metric(
        &app,
        "levee_db_breaker_state",
        PRIMARY,
        0.0,
        Duration::from_secs(1),
    )
    .await;
    wait_for_ready(&app, |status, _| status == 200).await;
}

/// Polls `/ready` until its status and body satisfy `want` (within a few checker rounds).
async fn wait_for_ready(app: &TestApp, want: impl Fn(u16, &serde_json::Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let response = app.get("/ready").await;
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.expect("json");
        if want(status, &body) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "/ready still answers {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn query_errors_do_not_open_the_primary_breaker() {
    let Some(app) = TestApp::spawn_with(
        Backend::Postgres,
        |c| c.database.breaker.failure_threshold = IntIn::new(1),
        None,
    )
    .await
    else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    // Created on the primary outside a transaction, so the breaker sees each outcome.
    let create = || {
        let body = json!({"title": "Taken", "body": "b", "slug": "taken-slug"});
        app.send_as(Method::POST, "/posts", &editor.access, Some(body))
    };
    assert_eq!(create().await.status(), 201);
    for _ in 0..3 {
        let taken = create().await;
        assert_eq!(taken.status(), 409, "a unique violation, not a dead server");
    }
    assert_eq!(
        app.get("/posts/not-there").await.status(),
        404,
        "still closed"
    );
}

//! Readiness answers from the background checker's last round: Redis is soft while the
//! cache and limiter degrade, hard when the limiter fails closed; shutdown is immediate.

use crate::helpers::{Backend, LeveeProcess, TestApp};
use levee::config::Duration;
use serde_json::Value;

const DEAD_REDIS: &str = "redis://127.0.0.1:1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_redis_degrades_readiness_while_the_limiter_fails_open() {
    // Its own process: `levee_dependency_up` is process-wide, and other tests' apps
    // with a live Redis would write the same series.
    let dir = tempfile::tempdir().expect("tempdir");
    let levee = LeveeProcess::serve_sqlite(
        dir.path(),
        &format!("[redis]\nurl = \"{DEAD_REDIS}\"\n[rate_limit]\nfail_open = true\n"),
    );
    let ready = reqwest::get(levee.url("/ready")).await.expect("ready");
    assert_eq!(
        ready.status(),
        200,
        "a soft dependency keeps the instance in"
    );
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["degraded"], serde_json::json!(["redis"]), "{body}");
    assert_ne!(body["checks"]["redis"], "ok", "{body}");
    assert_eq!(body["checks"]["database"], "ok", "{body}");
    let metrics = reqwest::get(levee.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for line in [
        "levee_dependency_up{dependency=\"redis\"} 0",
        "levee_dependency_up{dependency=\"database\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_redis_fails_readiness_when_the_limiter_fails_closed() {
    let Some(app) = TestApp::spawn_with(
        Backend::Sqlite,
        |c| {
            c.redis.url = Some(DEAD_REDIS.into());
            c.rate_limit.enabled = true;
            c.rate_limit.fail_open = false;
        },
        None,
    )
    .await
    else {
        return;
    };
    let resp = app.get("/ready").await;
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.expect("json");
    assert_ne!(body["checks"]["redis"], "ok", "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("redis"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_ready_calls_share_one_round_of_checks_per_interval() {
    let app = spawn_checked_hourly().await;
    for _ in 0..50 {
        assert_eq!(app.get("/ready").await.status(), 200);
    }
    assert_eq!(
        app.state.readiness().rounds(),
        1,
        "one round before serving, none per request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_503_at_once_whatever_the_last_round_said() {
    let app = spawn_checked_hourly().await;
    assert_eq!(app.get("/ready").await.status(), 200);
    app.state.begin_shutdown();
    let resp = app.get("/ready").await;
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["checks"]["lifecycle"], "shutting down", "{body}");
}

/// An app whose checker runs its first round and then none within a test's lifetime.
async fn spawn_checked_hourly() -> TestApp {
    TestApp::spawn_with(
        Backend::Sqlite,
        |c| c.server.ready_interval = Duration::secs(3600),
        None,
    )
    .await
    .expect("SQLite is always available")
}

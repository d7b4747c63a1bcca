//! Request ids, the RED histogram, load shedding, trace context in logs, and secrets
//! staying out of them.

use crate::backend_tests;
use crate::fixtures;
use crate::helpers::{Backend, CHEAP_HASHING_TOML, LeveeProcess, TestApp, unique_email};
use levee::config::IntIn;
use serde_json::{Value, json};
use std::time::Duration;

async fn request_ids_are_echoed_or_generated(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let resp = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "req-123")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.headers()["x-request-id"], "req-123");
    let resp = app
        .client
        .get(app.url("/missing"))
        .header("x-request-id", "req-456")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.headers()["x-request-id"], "req-456");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["request_id"], "req-456");
    let generated = app.get("/health").await;
    let id = generated.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
}

fn histogram_count(metrics: &str, labels: &str) -> u64 {
    let prefix = format!("http_server_request_duration_seconds_count{{{labels}}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

async fn metrics_expose_the_request_histogram_with_route_templates(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let before = app.get("/metrics").await.text().await.expect("text");
    app.get("/health").await;
    app.get("/definitely/not/here").await;
    let after = app.get("/metrics").await.text().await.expect("text");
    let ok = r#"method="GET",route="/health",status="200""#;
    let missing = r#"method="GET",route="unmatched",status="404""#;
    assert!(
        histogram_count(&after, ok) > histogram_count(&before, ok),
        "{after}"
    );
    assert!(histogram_count(&after, missing) > histogram_count(&before, missing));
    assert!(after.contains(r#"http_server_request_duration_seconds_bucket{method="GET",route="/health",status="200",le="0.005"}"#));
    assert!(
        !after.contains("/definitely/not/here"),
        "raw paths must not become labels"
    );
}

async fn metrics_can_require_a_bearer_token(backend: Backend) {
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| c.metrics.token = Some("scrape-me".into()),
        None,
    )
    .await
    else {
        return;
    };
    assert_eq!(app.get("/metrics").await.status(), 401);
    let resp = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("scrape-me")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
}

async fn requests_past_the_in_flight_cap_are_shed_with_503(backend: Backend) {
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| c.server.max_in_flight = IntIn::new(2),
        fixtures::routes(),
    )
    .await
    else {
        return;
    };
    let slow = || app.client.get(app.url("/__test/slow?ms=1500")).send();
    let (first, second, shed) = tokio::join!(slow(), slow(), async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        app.get("/ready").await
    });
    assert_eq!(first.expect("first").status(), 200);
    assert_eq!(second.expect("second").status(), 200);
    assert_eq!(shed.status(), 503);
    assert_eq!(shed.headers()["retry-after"], "1");
    let body: serde_json::Value = shed.json().await.expect("json");
    assert_eq!(body["type"], "urn:levee:problem:overloaded");
    assert_eq!(
        app.get("/health").await.status(),
        200,
        "liveness is never shed"
    );
    let metrics = app.get("/metrics").await.text().await.expect("text");
    assert!(metrics.contains("levee_http_shed_total"));
}

async fn metrics_can_move_to_their_own_listener(backend: Backend) {
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| c.metrics.listen = Some("127.0.0.1:0".parse().expect("addr")),
        None,
    )
    .await
    else {
        return;
    };
    assert_eq!(
        app.get("/metrics").await.status(),
        404,
        "not on the public listener"
    );
    let addr = app.metrics_addr.expect("metrics listener bound");
    let resp = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.expect("text").contains("# TYPE"));
}

backend_tests!(
    request_ids_are_echoed_or_generated,
    metrics_can_move_to_their_own_listener,
    metrics_expose_the_request_histogram_with_route_templates,
    metrics_can_require_a_bearer_token,
    requests_past_the_in_flight_cap_are_shed_with_503,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traceparent_reaches_the_json_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let levee = LeveeProcess::serve_sqlite(dir.path(), "");
    let resp = reqwest::Client::new()
        .get(levee.url("/health"))
        .header(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logged = levee
        .log_lines()
        .into_iter()
        .find(|l| l.contains("request served") && l.contains("/health"))
        .expect("an access log line");
    let line: serde_json::Value = serde_json::from_str(&logged).expect("json log line");
    assert_eq!(line["span"]["trace_id"], "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(line["span"]["parent_span_id"], "b7ad6b7169203331");
    assert_eq!(line["route"], "/health");
    assert!(line["span"]["request_id"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_file_receives_json_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = dir.path().join("logs");
    let levee = LeveeProcess::serve_sqlite(
        dir.path(),
        &format!("[log]\nfile = \"{}/levee.log\"\n", logs.display()),
    );
    assert_eq!(
        reqwest::get(levee.url("/health"))
            .await
            .expect("request")
            .status(),
        200
    );
    let mut found = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let contents: String = std::fs::read_dir(&logs)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("levee.log"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect();
        if contents.lines().any(|l| {
            l.contains("request served") && serde_json::from_str::<serde_json::Value>(l).is_ok()
        }) {
            found = true;
            break;
        }
    }
    assert!(found, "the rotated log file holds JSON access-log lines");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let levee = LeveeProcess::serve_sqlite(
        dir.path(),
        &format!("[log]\nlevel = \"debug\"\n{CHEAP_HASHING_TOML}"),
    );
    let client = reqwest::Client::new();
    let password = "a-very-distinctive-passphrase-9137";
    let email = unique_email("secret");
    let register = client
        .post(levee.url("/auth/register"))
        .json(&json!({"email": email, "password": password, "name": "S"}))
        .send()
        .await
        .expect("register");
    assert_eq!(register.status(), 201);
    let tokens: Value = client
        .post(levee.url("/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    let access = tokens["access_token"].as_str().expect("access").to_string();
    let rotated: Value = client
        .post(levee.url("/auth/refresh"))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .expect("refresh")
        .json()
        .await
        .expect("json");
    client
        .get(levee.url("/me"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("me");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let logs = levee.log_lines().join("\n");
    assert!(logs.contains("request served"), "logs were captured");
    for secret in [
        password,
        &refresh,
        &access,
        rotated["refresh_token"].as_str().expect("refresh"),
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}

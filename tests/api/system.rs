//! Health, readiness, the OpenAPI document and the docs page.

use crate::backend_tests;
use crate::helpers::{Backend, REDIS_ENV, TestApp, env_url, skip};
use serde_json::Value;
use std::time::{Duration, Instant};

async fn health_and_ready_answer_200(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let health: Value = app.get("/health").await.json().await.expect("json");
    assert_eq!(health["status"], "ok");
    let ready = app.get("/ready").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["migrations"], "ok");
}

async fn head_works_on_get_routes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for path in ["/health", "/ready", "/openapi.json", "/metrics"] {
        let get = app.get(path).await;
        let head = app.client.head(app.url(path)).send().await.expect("head");
        assert_eq!(head.status(), get.status(), "{path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "{path}"
        );
        assert!(head.headers().contains_key("x-request-id"));
        assert!(
            head.bytes().await.expect("body").is_empty(),
            "HEAD {path} has a body"
        );
    }
}

async fn openapi_document_is_openapi_3_and_docs_render(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let spec: Value = app.get("/openapi.json").await.json().await.expect("json");
    assert!(
        spec["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3."),
        "{}",
        spec["openapi"]
    );
    assert!(spec["paths"]["/ready"]["get"].is_object());
    assert!(spec["paths"]["/health"]["get"].is_object());
    let docs = app.get("/docs").await;
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.expect("html");
    assert!(html.contains("SwaggerUIBundle"), "{html}");
    for external in ["src=\"http", "href=\"http", "src='http", "href='http"] {
        assert!(
            !html.contains(external),
            "the docs page must not load assets from a CDN"
        );
    }
}

async fn ready_is_503_while_shutting_down(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.state.begin_shutdown();
    let resp = app.get("/ready").await;
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["checks"]["lifecycle"], "shutting down");
    assert_eq!(app.get("/health").await.status(), 200);
}

async fn ready_stays_200_reporting_an_unreachable_redis_as_degraded(backend: Backend) {
    // Redis is soft here (the test config's limiter is off): the instance stays in.
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| c.redis.url = Some("redis://127.0.0.1:1".into()),
        None,
    )
    .await
    else {
        return;
    };
    let resp = app.get("/ready").await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_ne!(body["checks"]["redis"], "ok", "{body}");
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["degraded"], serde_json::json!(["redis"]), "{body}");
}

async fn ready_checks_a_configured_redis(backend: Backend) {
    let Some(redis) = env_url(REDIS_ENV) else {
        skip("Redis readiness check", REDIS_ENV);
        return;
    };
    let Some(app) = TestApp::spawn_with(backend, |c| c.redis.url = Some(redis), None).await else {
        return;
    };
    let body: Value = app.get("/ready").await.json().await.expect("json");
    assert_eq!(body["checks"]["redis"], "ok", "{body}");
}

backend_tests!(
    health_and_ready_answer_200,
    head_works_on_get_routes,
    openapi_document_is_openapi_3_and_docs_render,
    ready_is_503_while_shutting_down,
    ready_stays_200_reporting_an_unreachable_redis_as_degraded,
    ready_checks_a_configured_redis,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_is_503_when_postgres_is_unreachable() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    assert_eq!(app.get("/ready").await.status(), 200);
    app.db.as_ref().expect("own database").drop_now().await;
    // `/ready` answers from the checker's last round: the failure shows within one
    // interval (plus the probe's own timeout).
    let deadline = Instant::now() + Duration::from_secs(10);
    let resp = loop {
        let resp = app.get("/ready").await;
        if resp.status() != 200 || Instant::now() > deadline {
            break resp;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.expect("json");
    assert_ne!(body["checks"]["database"], "ok");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("database"),
        "{body}"
    );
}

//! Response decoration and resource limits: compression, CORS, security headers, pool
//! exhaustion.

use crate::backend_tests;
use crate::fixtures;
use crate::helpers::{Backend, TestApp};
use levee::config::{Duration as ConfigDuration, IntIn};
use std::time::Duration;

async fn responses_are_compressed_when_asked(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for encoding in ["gzip", "br"] {
        let resp = app
            .client
            .get(app.url("/openapi.json"))
            .header("accept-encoding", encoding)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-encoding"], encoding);
    }
    let plain = app.get("/openapi.json").await;
    assert!(!plain.headers().contains_key("content-encoding"));
}

async fn security_headers_are_on_every_response(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for path in ["/health", "/nowhere"] {
        let resp = app.get(path).await;
        assert_eq!(
            resp.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
        assert_eq!(resp.headers()["x-frame-options"], "DENY");
        assert_eq!(resp.headers()["referrer-policy"], "no-referrer");
        assert!(
            resp.headers()["content-security-policy"]
                .to_str()
                .expect("ascii")
                .contains("default-src 'none'")
        );
        assert!(
            !resp.headers().contains_key("strict-transport-security"),
            "HSTS only over TLS"
        );
    }
}

async fn cors_allows_only_configured_origins_without_credentials(backend: Backend) {
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| c.server.cors_origins = vec!["https://shop.example".into()],
        None,
    )
    .await
    else {
        return;
    };
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/health"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert!(
        !preflight
            .headers()
            .contains_key("access-control-allow-credentials")
    );

    let allowed = app
        .client
        .get(app.url("/health"))
        .header("origin", "https://shop.example")
        .send()
        .await
        .expect("request");
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let other = app
        .client
        .get(app.url("/health"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("request");
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

async fn an_exhausted_pool_answers_503_instead_of_hanging(backend: Backend) {
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| {
            c.database.max_connections = IntIn::new(1);
            c.database.acquire_timeout = ConfigDuration::millis(200);
        },
        fixtures::routes(),
    )
    .await
    else {
        return;
    };
    let holder = app.spawn_get("/__test/hold-db?ms=1500");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let resp = app.get("/__test/hold-db?ms=0").await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "answered without waiting out the holder"
    );
    assert_eq!(resp.status(), 503);
    assert!(resp.headers().contains_key("retry-after"));
    let body: serde_json::Value = resp.json().await.expect("json");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("database"),
        "{body}"
    );
    assert_eq!(holder.await.expect("task").expect("holder").status(), 200);
}

backend_tests!(
    responses_are_compressed_when_asked,
    security_headers_are_on_every_response,
    cors_allows_only_configured_origins_without_credentials,
    an_exhausted_pool_answers_503_instead_of_hanging,
);

//! Every error is application/problem+json with type, title, status, detail, instance and
//! the request id.

use crate::backend_tests;
use crate::fixtures;
use crate::helpers::{Backend, TestApp, problem};
use levee::config::{Duration as ConfigDuration, Size};
use std::io::{Read, Write};

async fn app(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(
        backend,
        |c| {
            c.server.max_body = Size(1024);
            c.server.request_timeout = ConfigDuration::millis(300);
        },
        fixtures::routes(),
    )
    .await
}

async fn unknown_routes_and_methods_are_problems(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let body = problem(app.get("/no/such/thing").await, 404).await;
    assert_eq!(body["instance"], "/no/such/thing");
    let resp = app
        .client
        .delete(app.url("/health"))
        .send()
        .await
        .expect("request");
    problem(resp, 405).await;
}

async fn malformed_json_is_400_and_wrong_shape_is_422(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let post = |body: &'static str| {
        app.client
            .post(app.url("/__test/echo"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let body = problem(post("{not json").await.expect("request"), 400).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("not valid JSON"),
        "{body}"
    );
    problem(post(r#"{"name": [1]}"#).await.expect("request"), 422).await;
    problem(post("{}").await.expect("request"), 422).await;
    problem(
        post(r#"{"name": "far too long a name"}"#)
            .await
            .expect("request"),
        422,
    )
    .await;
    let ok = post(r#"{"name": "short"}"#).await.expect("request");
    assert_eq!(ok.status(), 200);
}

async fn wrong_content_type_is_415(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let resp = app
        .client
        .post(app.url("/__test/echo"))
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .expect("request");
    problem(resp, 415).await;
}

async fn oversize_bodies_are_413(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(4096));
    let resp = app
        .client
        .post(app.url("/__test/echo"))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .expect("request");
    problem(resp, 413).await;

    // A chunked body has no Content-Length; the limit still holds while it streams.
    let addr = app.addr;
    let raw = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        let head = "POST /__test/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        stream.write_all(head.as_bytes()).expect("head");
        let _ = stream.write_all(format!("{:x}\r\n{big}\r\n0\r\n\r\n", big.len()).as_bytes());
        let mut out = String::new();
        let _ = stream.read_to_string(&mut out);
        out
    })
    .await
    .expect("raw request");
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
    assert!(raw.contains("application/problem+json"));
}

async fn slow_requests_time_out_with_503(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let body = problem(app.get("/__test/slow?ms=5000").await, 503).await;
    assert_eq!(body["type"], "urn:levee:problem:timeout");
}

async fn bad_query_parameters_are_422_naming_the_parameter(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let body = problem(app.get("/__test/slow?ms=soon").await, 422).await;
    assert_eq!(body["errors"][0]["parameter"], "ms");
}

backend_tests!(
    unknown_routes_and_methods_are_problems,
    malformed_json_is_400_and_wrong_shape_is_422,
    wrong_content_type_is_415,
    oversize_bodies_are_413,
    slow_requests_time_out_with_503,
    bad_query_parameters_are_422_naming_the_parameter,
);

//! Graceful shutdown and connection-level protection.

use crate::backend_tests;
use crate::fixtures;
use crate::helpers::{Backend, LeveeProcess, TestApp};
use levee::config::Duration as ConfigDuration;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

async fn shutdown_lets_in_flight_requests_finish(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |_| {}, fixtures::routes()).await else {
        return;
    };
    let slow = app.spawn_get("/__test/slow?ms=1500");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    app.stop().await.expect("clean stop");
    let resp = slow
        .await
        .expect("task")
        .expect("the in-flight request completed");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.expect("body"), "done");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "stop waited for the request"
    );
}

async fn shutdown_cuts_requests_that_outlive_the_grace_period(backend: Backend) {
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| c.server.shutdown_timeout = ConfigDuration::millis(300),
        fixtures::routes(),
    )
    .await
    else {
        return;
    };
    let slow = app.spawn_get("/__test/slow?ms=10000");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    app.stop().await.expect("clean stop");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown_timeout bounds the drain"
    );
    assert!(
        slow.await.expect("task").is_err(),
        "the request past the grace period was cut"
    );
}

async fn clients_that_dawdle_over_headers_are_disconnected(backend: Backend) {
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| c.server.header_read_timeout = ConfigDuration::millis(500),
        None,
    )
    .await
    else {
        return;
    };
    let addr = app.addr;
    let (elapsed, answer) = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let started = Instant::now();
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            .expect("partial head");
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        (started.elapsed(), out)
    })
    .await
    .expect("raw client");
    assert!(
        elapsed < Duration::from_secs(5),
        "connection closed after {elapsed:?}"
    );
    assert!(!String::from_utf8_lossy(&answer).contains("200 OK"));
    // A well-behaved client on the same server is unaffected.
    assert_eq!(app.get("/health").await.status(), 200);
}

backend_tests!(
    shutdown_lets_in_flight_requests_finish,
    shutdown_cuts_requests_that_outlive_the_grace_period,
    clients_that_dawdle_over_headers_are_disconnected,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_binary_cleanly_with_exit_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut levee = LeveeProcess::serve_sqlite(dir.path(), "");
    assert_eq!(
        reqwest::get(levee.url("/ready"))
            .await
            .expect("ready")
            .status(),
        200
    );
    levee.signal("TERM");
    assert_eq!(levee.wait(Duration::from_secs(15)), Some(0));
    let lines = levee.log_lines();
    assert!(
        lines.iter().any(|l| l.contains("shutdown requested")),
        "{lines:?}"
    );
    assert!(
        lines.last().is_some_and(|l| l.contains("\"stopped\"")),
        "{lines:?}"
    );
}

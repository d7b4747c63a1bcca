//! Limits an attacker cannot walk around: invented API keys count against the client's
//! address, and a trickled body cannot hold a request slot past the request deadline.

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::rate_limit::limited;
use levee::auth::Scope;
use levee::auth::api_keys::{self, NewApiKey};
use levee::config::Duration as ConfigDuration;
use levee::db::ids::UserId;
use levee::users::Role;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn invented_api_keys_count_against_the_client_address(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, limited((5, 60, 5)), None).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let new_key = NewApiKey {
        name: "feed".into(),
        scopes: vec![Scope::UsersRead],
        expires_at: None,
        created_by: UserId(admin.user_id),
    };
    let (_, real_key) = api_keys::create(app.state.db(), new_key)
        .await
        .expect("key");

    let statuses: Vec<u16> = futures_util::future::join_all((0..6).map(|i| {
        let invented = format!("lvk_{i:08x}_{}", uuid::Uuid::new_v4().simple());
        let app = &app;
        async move { app.get_as("/posts", &invented).await.status().as_u16() }
    }))
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        1,
        "six requests with six invented keys share the address's quota of 5: {statuses:?}"
    );
    for _ in 0..2 {
        assert_eq!(
            app.get_as("/posts", &real_key).await.status(),
            200,
            "a real key is limited on its own quota, not the exhausted address's"
        );
    }
}

/// Sends a login head announcing a 64-byte body, then one byte every 100 ms; the answer
/// (or the close) and when it came.
async fn trickle_login(app: &TestApp) -> (String, Duration) {
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    let head = "POST /auth/login HTTP/1.1\r\nHost: levee\r\n\
                Content-Type: application/json\r\nContent-Length: 64\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("head");
    let (mut read, mut write) = stream.into_split();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        for byte in br#"{"email":"#.iter().cycle().take(64) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if write.write_all(&[*byte]).await.is_err() {
                return;
            }
        }
    });
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(6), read.read(&mut answer))
        .await
        .expect("the server answers before the trickle ends")
        .unwrap_or(0);
    trickle.abort();
    (
        String::from_utf8_lossy(&answer[..n]).into_owned(),
        started.elapsed(),
    )
}

async fn a_trickled_login_body_is_cut_off_at_the_request_deadline(backend: Backend) {
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| {
            c.rate_limit.enabled = true;
            c.server.request_timeout = ConfigDuration::secs(1);
        },
        None,
    )
    .await
    else {
        return;
    };
    let (answer, took) = trickle_login(&app).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 503"),
        "a 503 (or a close) at the deadline: {answer}"
    );
    assert!(
        took < Duration::from_secs(3),
        "answered after {took:?}, with the deadline at 1 s"
    );
}

backend_tests!(
    invented_api_keys_count_against_the_client_address,
    a_trickled_login_body_is_cut_off_at_the_request_deadline,
);

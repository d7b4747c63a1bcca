//! A fleet shares its tokens: instances on one database, and a separate `levee` process,
//! accept each other's access and refresh tokens.

use crate::backend_tests;
use crate::helpers::{Backend, CHEAP_HASHING_TOML, LeveeProcess, PASSWORD, TestApp};
use serde_json::{Value, json};

async fn two_instances_accept_each_others_tokens(backend: Backend) {
    let Some(first) = TestApp::spawn(backend).await else {
        return;
    };
    let second = first.spawn_sibling(backend).await;
    let session = first.customer().await;
    assert_eq!(second.get_as("/me", &session.access).await.status(), 200);
    let rotated: Value = second
        .refresh(&session.refresh)
        .await
        .json()
        .await
        .expect("json");
    let access = rotated["access_token"].as_str().expect("access");
    assert_eq!(first.get_as("/me", access).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_separate_levee_process_accepts_the_fleets_tokens() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let session = app.customer().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("levee.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nport = 0\n[database]\nurl = \"{}\"\n{CHEAP_HASHING_TOML}",
            app.db_url
        ),
    )
    .expect("config");
    let other = LeveeProcess::serve(&config);
    let client = reqwest::Client::new();
    let me = client
        .get(other.url("/me"))
        .bearer_auth(&session.access)
        .send()
        .await
        .expect("me");
    assert_eq!(
        me.status(),
        200,
        "a token issued by one process is accepted by another"
    );
    let login: Value = client
        .post(other.url("/auth/login"))
        .json(&json!({"email": session.email, "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let access = login["access_token"].as_str().expect("access");
    assert_eq!(
        app.get_as("/me", access).await.status(),
        200,
        "and the other way round"
    );
}

backend_tests!(two_instances_accept_each_others_tokens);

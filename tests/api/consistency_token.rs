//! Read-your-writes tokens are signed: a forged one is ignored (reads stay on the cache),
//! one issued by a real write sends reads around it. No standby is needed — the primary
//! itself is configured as the "replica", which installs the read-your-writes layer.
//! A token still lets the cache answer once an entry was filled after the write (and
//! after the replica lag bound), and the cookie is `Secure` behind an https public URL.

use crate::cache::{change_behind_the_cache, edit_body, published};
use crate::helpers::{Backend, TestApp};
use levee::config::Duration as ConfigDuration;
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const TOKEN_HEADER: &str = "levee-consistency-token";

async fn body_with_token(app: &TestApp, path: &str, token: &str) -> Value {
    // A fresh client: no cookie from an earlier write rides along.
    let resp = reqwest::Client::new()
        .get(app.url(path))
        .header(TOKEN_HEADER, token)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.expect("json")["body"].clone()
}

/// The primary as its own replica, tokens valid for a minute.
fn with_replica(c: &mut levee::config::Config) {
    c.database.replicas = vec![c.database.url.clone()];
    c.database.read_your_writes = ConfigDuration::secs(60);
}

fn issued_token(write: &reqwest::Response) -> String {
    write.headers()[TOKEN_HEADER]
        .to_str()
        .expect("token")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_signed_consistency_token_reads_around_the_cache() {
    let Some(app) = TestApp::spawn_with(Backend::Postgres, with_replica, None).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let slug = published(&app, &editor, "Signed").await;
    let path = format!("/posts/{slug}");
    assert_eq!(app.get_json(&path).await["body"], "v1", "now cached");
    // Change the row behind the cache's back: only a read around the cache sees "v2".
    change_behind_the_cache(&app, &slug, "v2").await;

    let now = chrono::Utc::now().timestamp_millis();
    for forged in [now.to_string(), format!("{now}.AAAA"), format!("{now}.")] {
        assert_eq!(
            body_with_token(&app, &path, &forged).await,
            "v1",
            "forged token {forged:?} is ignored"
        );
    }

    let write = app
        .send_as(
            Method::POST,
            "/posts",
            &editor.access,
            Some(json!({"title": "Other", "body": "x"})),
        )
        .await;
    let issued = issued_token(&write);
    assert!(issued.contains('.'), "a signed token: {issued}");
    assert_eq!(body_with_token(&app, &path, &issued).await, "v2");
    let (stamp, mac) = issued.split_once('.').expect("signed");
    let shifted = format!("{}.{mac}", stamp.parse::<i64>().expect("millis") + 1);
    assert_eq!(
        body_with_token(&app, &path, &shifted).await,
        "v1",
        "a tampered time fails the MAC"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_answered_from_the_cache_once_an_entry_was_filled_after_the_write() {
    // The replica lag bound: max_replica_lag plus one check interval.
    let lag = Duration::from_millis(1200);
    let tweak = |c: &mut levee::config::Config| {
        with_replica(c);
        c.database.max_replica_lag = ConfigDuration::secs(1);
        c.database.replica_check_interval = ConfigDuration::millis(200);
    };
    let Some(app) = TestApp::spawn_with(Backend::Postgres, tweak, None).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let slug = published(&app, &editor, "Newer than the token").await;
    let path = format!("/posts/{slug}");
    let token = issued_token(&edit_body(&app, &editor, &path, "v2").await);

    // Filled right after the write: a replica could still have been behind it.
    assert_eq!(app.get_json(&path).await["body"], "v2");
    change_behind_the_cache(&app, &slug, "v3").await;
    assert_eq!(
        body_with_token(&app, &path, &token).await,
        "v3",
        "within the lag bound the token reads the primary"
    );

    tokio::time::sleep(lag + Duration::from_millis(300)).await;
    assert_eq!(
        app.get_json(&path).await["body"],
        "v3",
        "a fill after the lag"
    );
    change_behind_the_cache(&app, &slug, "v4").await;
    assert_eq!(
        body_with_token(&app, &path, &token).await,
        "v3",
        "an entry filled after the write answers the token from the cache"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consistency_cookie_is_secure_when_the_public_url_is_https() {
    for (public_url, secure) in [
        ("http://shop.example", false),
        ("https://shop.example", true),
    ] {
        let tweak = |c: &mut levee::config::Config| {
            with_replica(c);
            c.server.public_url = Some(public_url.into());
        };
        let Some(app) = TestApp::spawn_with(Backend::Postgres, tweak, None).await else {
            return;
        };
        let editor = app.account(Role::Editor).await;
        let write = app
            .send_as(
                Method::POST,
                "/posts",
                &editor.access,
                Some(json!({"title": "Cookie", "body": "x"})),
            )
            .await;
        let cookie = write
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("levee_consistency="))
            .expect("a consistency cookie")
            .to_string();
        assert_eq!(
            cookie.ends_with("; Secure"),
            secure,
            "{public_url}: {cookie}"
        );
    }
}

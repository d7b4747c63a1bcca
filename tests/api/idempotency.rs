//! `Idempotency-Key` on `POST /posts` (optional there): replays, mismatches, duplicates
//! of a request still running, scopes, released keys, lease takeover and pruning.

use crate::backend_tests;
use crate::helpers::jobs::run_job;
use crate::helpers::{Backend, Session, TestApp};
use levee::config::{Duration, IdempotencyConfig};
use levee::idempotency::{
    self, Begin, Claim, Fingerprint, IdempotencyError, Key, KeyScope, Request, StoredResponse,
};
use levee::users::Role;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// Sends `POST /posts` with `key`; the body bytes are sent exactly as serialised here,
/// so a test can fingerprint them.
async fn post(app: &TestApp, editor: &Session, key: &str, body: &Value) -> reqwest::Response {
    app.post_keyed("/posts", &editor.access, key, body).await
}

/// The request `post` makes, as the idempotency layer names it.
fn request_of(editor: &Session, key: &str, body: &Value) -> Request {
    Request {
        scope: KeyScope::of("user", editor.user_id),
        key: Key::parse(key).expect("key"),
        fingerprint: Fingerprint::of("POST", "/posts", &serde_json::to_vec(body).expect("json")),
    }
}

/// Claims `request`'s key as a request that is still running would.
async fn hold(app: &TestApp, config: &IdempotencyConfig, request: &Request) -> Claim {
    match idempotency::begin(app.state.db(), config, request).await {
        Ok(Begin::Started(claim)) => claim,
        _ => panic!("the key was free"),
    }
}

async fn drafts_titled(app: &TestApp, editor: &Session, title: &str) -> usize {
    let page: Value = app
        .get_as("/posts?status=draft&limit=100", &editor.access)
        .await
        .json()
        .await
        .expect("json");
    let items = page["items"].as_array().expect("items");
    items.iter().filter(|p| p["title"] == title).count()
}

async fn a_retry_replays_the_first_response_and_creates_no_second_post(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let body = json!({"title": "Launch notes", "body": "text"});
    let first = post(&app, &editor, "retry-1", &body).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotency-replayed").is_none());
    let first_body = first.text().await.expect("body");

    let again = post(&app, &editor, "retry-1", &body).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    assert!(
        again.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json")
    );
    assert_eq!(again.text().await.expect("body"), first_body);
    assert_eq!(drafts_titled(&app, &editor, "Launch notes").await, 1);

    // Without a key every POST creates.
    let plain = app
        .send_as(reqwest::Method::POST, "/posts", &editor.access, Some(body))
        .await;
    assert_eq!(plain.status(), 201);
    assert_eq!(drafts_titled(&app, &editor, "Launch notes").await, 2);
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains("levee_idempotency_requests_total{outcome=\"replayed\"}"),
        "{metrics}"
    );
}

async fn the_same_key_with_another_request_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let body = json!({"title": "First", "body": "text"});
    assert_eq!(post(&app, &editor, "k-1", &body).await.status(), 201);

    let other = post(
        &app,
        &editor,
        "k-1",
        &json!({"title": "Second", "body": "text"}),
    )
    .await;
    assert_eq!(other.status(), 422);
    let problem: Value = other.json().await.expect("json");
    assert_eq!(
        problem["errors"][0]["parameter"], "Idempotency-Key",
        "{problem}"
    );
    assert_eq!(drafts_titled(&app, &editor, "Second").await, 0);

    for bad in ["k".repeat(256), "tab\there".into()] {
        let resp = post(&app, &editor, &bad, &body).await;
        assert_eq!(resp.status(), 400, "{bad}");
        let problem: Value = resp.json().await.expect("json");
        assert!(
            problem["detail"]
                .as_str()
                .expect("detail")
                .contains("Idempotency-Key")
        );
    }
}

async fn a_duplicate_of_a_request_still_running_gets_409(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let body = json!({"title": "Held", "body": "text"});
    let request = request_of(&editor, "held-1", &body);
    let claim = hold(&app, &IdempotencyConfig::default(), &request).await;

    let duplicate = post(&app, &editor, "held-1", &body).await;
    assert_eq!(duplicate.status(), 409);
    let problem: Value = duplicate.json().await.expect("json");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("still being processed")
    );
    assert_eq!(drafts_titled(&app, &editor, "Held").await, 0);

    // The first failed and let go: the retry runs.
    claim.release(app.state.db()).await.expect("release");
    assert_eq!(post(&app, &editor, "held-1", &body).await.status(), 201);
    assert_eq!(drafts_titled(&app, &editor, "Held").await, 1);
}

async fn the_same_key_from_another_caller_is_another_key(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (one, two) = (
        app.account(Role::Editor).await,
        app.account(Role::Editor).await,
    );
    let body = json!({"title": "Shared key", "body": "text"});
    let first: Value = post(&app, &one, "shared", &body)
        .await
        .json()
        .await
        .expect("json");
    let resp = post(&app, &two, "shared", &body).await;
    assert_eq!(resp.status(), 201);
    assert!(resp.headers().get("idempotency-replayed").is_none());
    let second: Value = resp.json().await.expect("json");
    assert_ne!(first["id"], second["id"]);
}

async fn a_failed_request_leaves_its_key_free_for_a_retry(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let taken = json!({"title": "Taken", "body": "text", "slug": "taken"});
    assert_eq!(post(&app, &editor, "first", &taken).await.status(), 201);
    let clash = post(&app, &editor, "second", &taken).await;
    assert_eq!(clash.status(), 409, "the slug is taken");
    assert!(clash.headers().get("idempotency-replayed").is_none());

    let path = "/posts/taken";
    let deleted = app
        .send_as(reqwest::Method::DELETE, path, &editor.access, None)
        .await;
    assert_eq!(deleted.status(), 204);
    let retry = post(&app, &editor, "second", &taken).await;
    assert_eq!(retry.status(), 201, "the failure was not stored");
    assert!(retry.headers().get("idempotency-replayed").is_none());
}

async fn a_claim_abandoned_by_a_crash_is_taken_over_after_its_lease(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let body = json!({"title": "Crashed", "body": "text"});
    let request = request_of(&editor, "crash-1", &body);
    let short = IdempotencyConfig {
        lease: Duration::secs(1),
        ..IdempotencyConfig::default()
    };
    let crashed = hold(&app, &short, &request).await;
    assert_eq!(post(&app, &editor, "crash-1", &body).await.status(), 409);

    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let resp = post(&app, &editor, "crash-1", &body).await;
    assert_eq!(resp.status(), 201, "the lease ran out");
    assert_eq!(drafts_titled(&app, &editor, "Crashed").await, 1);

    // The old holder, had it lived on, could no longer complete: its writes roll back.
    let txn = app.state.db().begin_write().await.expect("txn");
    let stale = StoredResponse {
        status: 201,
        headers: Vec::new(),
        body: "{}".into(),
    };
    let lost = crashed.complete(&txn, stale).await;
    assert!(matches!(lost, Err(IdempotencyError::ClaimLost)), "{lost:?}");
    drop(txn);
    let replay = post(&app, &editor, "crash-1", &body).await;
    assert_eq!(replay.headers()["idempotency-replayed"], "true");
}

async fn expired_keys_are_pruned(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let body = json!({"title": "Old", "body": "text"});
    assert_eq!(post(&app, &editor, "old", &body).await.status(), 201);
    assert_eq!(post(&app, &editor, "new", &body).await.status(), 201);
    let db = app.state.db();
    let age = db.statement(
        "UPDATE idempotency_keys SET expires_at = $1 WHERE key = $2",
        vec![
            (chrono::Utc::now() - chrono::Duration::hours(1)).into(),
            "old".into(),
        ],
    );
    db.write().execute_raw(age).await.expect("age the key");

    run_job(&app, "idempotency.prune").await;

    let keys = db.statement("SELECT key FROM idempotency_keys ORDER BY key", vec![]);
    let left: Vec<String> = db
        .write()
        .query_all_raw(keys)
        .await
        .expect("keys")
        .iter()
        .map(|row| row.try_get("", "key").expect("key"))
        .collect();
    assert_eq!(left, vec!["new".to_string()]);
    // An expired key names a new request, whatever it asks for.
    let other = json!({"title": "Old again", "body": "text"});
    assert_eq!(post(&app, &editor, "old", &other).await.status(), 201);
}

backend_tests!(
    a_retry_replays_the_first_response_and_creates_no_second_post,
    the_same_key_with_another_request_is_refused,
    a_duplicate_of_a_request_still_running_gets_409,
    the_same_key_from_another_caller_is_another_key,
    a_failed_request_leaves_its_key_free_for_a_retry,
    a_claim_abandoned_by_a_crash_is_taken_over_after_its_lease,
    expired_keys_are_pruned,
);

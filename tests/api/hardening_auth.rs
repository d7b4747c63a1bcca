//! Issue 14 (hardening) for authentication: role changes need a signed-in admin, API keys
//! die with their creator's standing, a refresh inside the grace window hands back the
//! successor already issued, token responses are never cached.

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, Session, TestApp, problem};
use levee::config::Duration as ConfigDuration;
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};

/// An API key with `scopes`, minted by `admin`.
async fn api_key(app: &TestApp, admin: &Session, scopes: &[&str]) -> String {
    let created = app
        .send_as(
            Method::POST,
            "/api-keys",
            &admin.access,
            Some(json!({"name": "sync", "scopes": scopes})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    created["key"].as_str().expect("key").to_string()
}

async fn patch_user(app: &TestApp, token: &str, user: &Session, body: Value) -> reqwest::Response {
    app.send_as(
        Method::PATCH,
        &format!("/users/{}", user.user_id),
        token,
        Some(body),
    )
    .await
}

async fn no_api_key_scope_grants_role_changes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let customer = app.customer().await;
    let key = api_key(&app, &admin, &["users:read", "users:write"]).await;

    let body = problem(
        patch_user(&app, &key, &customer, json!({"role": "admin"})).await,
        403,
    )
    .await;
    assert_eq!(body["detail"], "API keys cannot perform this operation");
    let user: Value = app
        .get_as(&format!("/users/{}", customer.user_id), &admin.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(user["role"], "customer", "the role is unchanged");

    // The key still manages statuses; a signed-in admin still changes roles.
    let disabled = patch_user(&app, &key, &customer, json!({"status": "disabled"})).await;
    assert_eq!(disabled.status(), 200);
    let promoted = patch_user(&app, &admin.access, &customer, json!({"role": "editor"})).await;
    assert_eq!(promoted.status(), 200);
}

async fn api_keys_stop_working_when_their_creator_is_disabled_or_demoted(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let root = app.account(Role::Admin).await;
    let disabled_creator = app.account(Role::Admin).await;
    let demoted_creator = app.account(Role::Admin).await;
    let disabled_key = api_key(&app, &disabled_creator, &["users:read"]).await;
    let demoted_key = api_key(&app, &demoted_creator, &["users:read"]).await;
    assert_eq!(app.get_as("/users", &disabled_key).await.status(), 200);
    assert_eq!(app.get_as("/users", &demoted_key).await.status(), 200);

    let change = json!({"status": "disabled"});
    assert_eq!(
        patch_user(&app, &root.access, &disabled_creator, change)
            .await
            .status(),
        200
    );
    let change = json!({"role": "editor"});
    assert_eq!(
        patch_user(&app, &root.access, &demoted_creator, change)
            .await
            .status(),
        200
    );
    problem(app.get_as("/users", &disabled_key).await, 401).await;
    problem(app.get_as("/users", &demoted_key).await, 401).await;
}

async fn refresh_token(resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    body["refresh_token"].as_str().expect("refresh").to_string()
}

async fn a_refresh_within_grace_returns_the_successor_already_issued(backend: Backend) {
    let Some(app) = TestApp::spawn_with(
        backend,
        |c| c.auth.refresh_grace = ConfigDuration::secs(30),
        None,
    )
    .await
    else {
        return;
    };
    let session = app.customer().await;
    let first = refresh_token(app.refresh(&session.refresh).await).await;
    let second = refresh_token(app.refresh(&session.refresh).await).await;
    assert_eq!(first, second, "no second branch of the session");

    // The successor is single use like any token: one tab rotates it, and the other
    // tab's late copy gets the same next token within grace.
    let next = refresh_token(app.refresh(&first).await).await;
    assert_eq!(refresh_token(app.refresh(&second).await).await, next);

    // The family moved on twice: the first token is now a reuse, and it kills the family.
    problem(app.refresh(&session.refresh).await, 401).await;
    problem(app.refresh(&next).await, 401).await;
}

async fn token_responses_are_never_cached(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let session = app.customer().await;
    let login = app.login(&session.email, PASSWORD).await;
    assert_eq!(login.status(), 200);
    assert_eq!(login.headers()["cache-control"], "no-store");
    let refreshed = app.refresh(&session.refresh).await;
    assert_eq!(refreshed.status(), 200);
    assert_eq!(refreshed.headers()["cache-control"], "no-store");
}

backend_tests!(
    no_api_key_scope_grants_role_changes,
    api_keys_stop_working_when_their_creator_is_disabled_or_demoted,
    a_refresh_within_grace_returns_the_successor_already_issued,
    token_responses_are_never_cached,
);

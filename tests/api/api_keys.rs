//! API keys: shown once, scoped, tracked when used, revocable, and for admins only.

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, pointers, problem};
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};

async fn api_keys_are_scoped_and_revocable(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let customer = app.customer().await;
    let created = app
        .send_as(
            Method::POST,
            "/api-keys",
            &admin.access,
            Some(json!({"name": "reporting", "scopes": ["users:read"]})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    let key = created["key"].as_str().expect("key shown once").to_string();
    assert!(
        key.starts_with("lvk_") && key.starts_with(created["prefix"].as_str().expect("prefix"))
    );

    assert_eq!(
        app.get_as("/users", &key).await.status(),
        200,
        "users:read allows listing"
    );
    let body = problem(
        app.send_as(
            Method::PATCH,
            &format!("/users/{}", customer.user_id),
            &key,
            Some(json!({"role": "admin"})),
        )
        .await,
        403,
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("users:write")
    );
    problem(app.get_as("/me", &key).await, 403).await;
    problem(
        app.send_as(
            Method::POST,
            "/api-keys",
            &key,
            Some(json!({"name": "x", "scopes": []})),
        )
        .await,
        403,
    )
    .await;

    let listed: Value = app
        .get_as("/api-keys", &admin.access)
        .await
        .json()
        .await
        .expect("json");
    let listed_key = &listed["items"][0];
    assert!(
        listed_key.get("key").is_none(),
        "the secret is never listed"
    );
    assert!(listed_key["last_used_at"].is_string(), "use is tracked");

    let id = created["id"].as_str().expect("id");
    assert_eq!(
        app.send_as(
            Method::DELETE,
            &format!("/api-keys/{id}"),
            &admin.access,
            None
        )
        .await
        .status(),
        204
    );
    problem(app.get_as("/users", &key).await, 401).await;
    problem(
        app.send_as(
            Method::DELETE,
            &format!("/api-keys/{}", uuid::Uuid::new_v4()),
            &admin.access,
            None,
        )
        .await,
        404,
    )
    .await;

    let bad = app
        .send_as(
            Method::POST,
            "/api-keys",
            &admin.access,
            Some(json!({"name": "", "scopes": ["users:read", "everything"]})),
        )
        .await;
    assert_eq!(
        pointers(&problem(bad, 422).await),
        vec!["/name".to_string(), "/scopes/1".to_string()]
    );
    problem(
        app.send_as(
            Method::POST,
            "/api-keys",
            &customer.access,
            Some(json!({"name": "x", "scopes": []})),
        )
        .await,
        403,
    )
    .await;
}

backend_tests!(api_keys_are_scoped_and_revocable);

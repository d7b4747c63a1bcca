//! `GET /me/export`: the caller's profile, orders with addresses, API keys' metadata,
//! live sessions and emails — and nothing of anybody else's.

use crate::accounts_reset::emails;
use crate::backend_tests;
use crate::helpers::orders::{basket, for_orders, product};
use crate::helpers::{Backend, PASSWORD, TestApp};
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};

async fn order(app: &TestApp, token: &str, quantity: i64) -> String {
    let resp = app.place_order(token, basket(&[("MUG", quantity)])).await;
    assert_eq!(resp.status(), 202);
    let body: Value = resp.json().await.expect("json");
    body["id"].as_str().expect("id").to_string()
}

async fn the_export_holds_the_callers_data_and_nobody_elses(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, for_orders, None).await else {
        return;
    };
    product(&app, "MUG", 900, "EUR", 50).await;
    let admin = app.account(Role::Admin).await;
    let (me, other) = (app.customer().await, app.customer().await);
    let second_session = app.session(&me.email, PASSWORD).await;
    let mine = [
        order(&app, &me.access, 1).await,
        order(&app, &me.access, 2).await,
    ];
    let theirs = order(&app, &other.access, 3).await;
    emails(&app, &admin, &me.email, "Welcome to", 1).await;
    emails(&app, &admin, &other.email, "Welcome to", 1).await;

    let resp = app.get_as("/me/export", &me.access).await;
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let text = resp.text().await.expect("body");
    let export: Value = serde_json::from_str(&text).expect("one JSON document");

    assert_eq!(export["profile"]["email"], me.email.as_str());
    assert_eq!(export["profile"]["id"], me.user_id.to_string());
    let orders = export["orders"].as_array().expect("orders");
    let ids: Vec<&str> = orders.iter().filter_map(|o| o["id"].as_str()).collect();
    assert_eq!(ids.len(), 2, "{export}");
    assert!(mine.iter().all(|id| ids.contains(&id.as_str())), "{ids:?}");
    assert_eq!(orders[0]["shipping_address"]["city"], "London");
    assert_eq!(orders[0]["items"][0]["sku"], "MUG");
    let sessions = export["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 2, "two signed-in sessions: {export}");
    let mails = export["emails"].as_array().expect("emails");
    assert!(
        mails.iter().any(|m| m["subject"]
            .as_str()
            .is_some_and(|s| s.starts_with("Welcome to"))),
        "{export}"
    );
    assert_eq!(export["api_keys"], json!([]));
    for foreign in [&other.email, &theirs, &other.user_id.to_string()] {
        assert!(!text.contains(foreign.as_str()), "{foreign} leaked");
    }
    for secret in [&me.refresh, &second_session.refresh, &me.access] {
        assert!(!text.contains(secret.as_str()), "a token leaked");
    }

    // An admin's export lists the keys they made, without the key or its hash.
    let created = app
        .send_as(
            Method::POST,
            "/api-keys",
            &admin.access,
            Some(json!({"name": "sync", "scopes": ["users:read"]})),
        )
        .await;
    let created: Value = created.json().await.expect("json");
    let key = created["key"].as_str().expect("key");
    let text = app
        .get_as("/me/export", &admin.access)
        .await
        .text()
        .await
        .expect("body");
    let export: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(export["api_keys"][0]["name"], "sync");
    assert_eq!(export["api_keys"][0]["scopes"], json!(["users:read"]));
    let hash = levee::auth::secret::sha256_hex(key);
    assert!(!text.contains(key) && !text.contains(&hash), "a key leaked");
    assert_eq!(export["orders"], json!([]));
}

backend_tests!(the_export_holds_the_callers_data_and_nobody_elses);

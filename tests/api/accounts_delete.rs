//! Account deletion: the owner (`POST /me/delete`) or an admin (`DELETE /users/{id}`)
//! disables the account at once, its sessions and API keys stop working, and a job
//! anonymises its personal data while its orders keep their totals and items.

use crate::accounts_reset::{emails, settled};
use crate::backend_tests;
use crate::helpers::orders::{basket, for_orders, product};
use crate::helpers::{Backend, PASSWORD, Session, TestApp, pointers, problem};
use crate::mail::{eventually, outbox};
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const SOON: Duration = Duration::from_secs(30);

/// Waits until the account `id` is anonymised, and returns its row: the API no longer
/// shows a deleted account.
pub async fn anonymised(app: &TestApp, id: uuid::Uuid) -> levee::users::Model {
    settled(app, "accounts.anonymise").await;
    let user = levee::users::find_any(app.state.db().write(), levee::db::ids::UserId(id))
        .await
        .expect("query")
        .expect("the row stays");
    let email = user.email.as_str();
    assert!(
        email.starts_with("deleted-") && email.ends_with("@deleted.invalid"),
        "{user:?}"
    );
    assert_eq!(user.name, "Deleted user");
    assert_eq!(user.status, levee::users::UserStatus::Disabled);
    assert!(user.deleted_at.is_some());
    user
}

/// A deleted account is gone from the API: reading, changing or deleting it again is 404,
/// and it is in no list.
async fn gone(app: &TestApp, admin: &Session, id: uuid::Uuid) {
    let path = format!("/users/{id}");
    problem(app.get_as(&path, &admin.access).await, 404).await;
    let enable = Some(json!({"status": "active"}));
    problem(
        app.send_as(Method::PATCH, &path, &admin.access, enable)
            .await,
        404,
    )
    .await;
    problem(
        app.send_as(Method::DELETE, &path, &admin.access, None)
            .await,
        404,
    )
    .await;
    let list: Value = app
        .get_as("/users?limit=100", &admin.access)
        .await
        .json()
        .await
        .expect("json");
    let listed = list["items"].as_array().expect("items");
    assert!(listed.iter().all(|u| u["id"] != id.to_string()), "{list}");
}

async fn a_deleted_account_is_anonymised_and_its_orders_still_add_up(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, for_orders, None).await else {
        return;
    };
    product(&app, "TEE", 1250, "EUR", 50).await;
    let admin = app.account(Role::Admin).await;
    let buyer = app.customer().await;
    emails(&app, &admin, &buyer.email, "Welcome to", 1).await;
    let placed = app.place_order(&buyer.access, basket(&[("TEE", 3)])).await;
    assert_eq!(placed.status(), 202);
    let placed: Value = placed.json().await.expect("json");
    let id = placed["id"].as_str().expect("id").to_string();
    app.order_reaching(&buyer.access, &id, &["completed"], SOON)
        .await;
    // Sent before the deletion: a message still queued then would be stored after it.
    emails(&app, &admin, &buyer.email, "Your order at", 1).await;

    let delete = |password: &str| {
        app.send_as(
            Method::POST,
            "/me/delete",
            &buyer.access,
            Some(json!({"current_password": password})),
        )
    };
    let wrong = problem(delete("not my password").await, 422).await;
    assert_eq!(pointers(&wrong), vec!["/current_password".to_string()]);
    let resp = delete(PASSWORD).await;
    assert_eq!(resp.status(), 202);
    let body: Value = resp.json().await.expect("json");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("anonymised")),
        "{body}"
    );

    assert_eq!(app.refresh(&buyer.refresh).await.status(), 401);
    assert_eq!(app.login(&buyer.email, PASSWORD).await.status(), 401);
    gone(&app, &admin, buyer.user_id).await;
    anonymised(&app, buyer.user_id).await;
    assert_eq!(app.login(&buyer.email, PASSWORD).await.status(), 401);
    assert!(outbox(&app, &admin.access, &buyer.email).await.is_empty());

    let order: Value = app
        .get_as(&format!("/orders/{id}"), &admin.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(order["total"], json!({"amount": 3750, "currency": "EUR"}));
    assert_eq!(
        order["items"],
        json!([{"sku": "TEE", "quantity": 3, "unit_price": {"amount": 1250, "currency": "EUR"}}])
    );
    assert_eq!(order["status"], "completed");
    let address = &order["shipping_address"];
    assert_eq!(address["name"], "deleted", "{order}");
    assert_eq!(address["line1"], "deleted");
    assert_eq!(address["country"], "GB", "kept for the books");
}

async fn admins_delete_accounts_and_the_keys_they_made_stop_working(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, crate::mail::fast, None).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let leaving = app.account(Role::Admin).await;
    let customer = app.customer().await;
    let created = app
        .send_as(
            Method::POST,
            "/api-keys",
            &leaving.access,
            Some(json!({"name": "sync", "scopes": ["users:read"]})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    let key = created["key"].as_str().expect("key").to_string();
    assert_eq!(app.get_as("/users", &key).await.status(), 200);

    let path = format!("/users/{}", leaving.user_id);
    let refused = app
        .send_as(Method::DELETE, &path, &customer.access, None)
        .await;
    problem(refused, 403).await;
    let unknown = format!("/users/{}", uuid::Uuid::new_v4());
    problem(
        app.send_as(Method::DELETE, &unknown, &admin.access, None)
            .await,
        404,
    )
    .await;

    let resp = app
        .send_as(Method::DELETE, &path, &admin.access, None)
        .await;
    assert_eq!(resp.status(), 202);
    assert_eq!(app.refresh(&leaving.refresh).await.status(), 401);
    assert_eq!(app.get_as("/users", &key).await.status(), 401);
    gone(&app, &admin, leaving.user_id).await;
    anonymised(&app, leaving.user_id).await;
    assert_eq!(app.login(&leaving.email, PASSWORD).await.status(), 401);
    // Nobody else was touched.
    let other = app
        .get_as(&format!("/users/{}", customer.user_id), &admin.access)
        .await;
    assert_eq!(other.status(), 200);
    let other: Value = other.json().await.expect("json");
    assert_eq!(other["email"], customer.email.as_str());
    assert_eq!(app.refresh(&customer.refresh).await.status(), 200);
    eventually("the other account still signs in", || async {
        (app.login(&customer.email, PASSWORD).await.status() == 200).then_some(())
    })
    .await;
}

backend_tests!(
    a_deleted_account_is_anonymised_and_its_orders_still_add_up,
    admins_delete_accounts_and_the_keys_they_made_stop_working,
);

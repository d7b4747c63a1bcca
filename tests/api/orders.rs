//! Orders over the API: validation with pointers, who sees which order, the event log and
//! the confirmation email, and cancels before and after payment.

use crate::backend_tests;
use crate::helpers::orders::{SETTLED, basket, eventually, for_orders, product, reconciled_stock};
use crate::helpers::{Backend, TestApp, pointers, problem};
use levee::config::{Config, Duration as ConfigDuration};
use levee::users::Role;
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use std::time::Duration;

const SOON: Duration = Duration::from_secs(30);

async fn placed_id(app: &TestApp, token: &str, body: Value) -> String {
    let resp = app.place_order(token, body).await;
    assert_eq!(resp.status(), 202);
    let order: Value = resp.json().await.expect("json");
    order["id"].as_str().expect("id").to_string()
}

async fn invalid_baskets_are_refused_with_a_pointer_to_each_bad_line(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, for_orders, None).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    for (sku, currency) in [
        ("OK-1", "EUR"),
        ("DOLLAR", "USD"),
        ("HIDDEN", "EUR"),
        ("GONE", "EUR"),
    ] {
        product(&app, sku, 100, currency, 5).await;
    }
    let patch = Some(json!({"active": false}));
    let hidden = app
        .send_as(Method::PATCH, "/products/HIDDEN", &admin.access, patch)
        .await;
    assert_eq!(hidden.status(), 200);
    let gone = app
        .send_as(Method::DELETE, "/products/GONE", &admin.access, None)
        .await;
    assert_eq!(gone.status(), 204);
    let buyer = app.customer().await;

    let mixed = basket(&[
        ("OK-1", 1),
        ("NOPE", 1),
        ("HIDDEN", 1),
        ("GONE", 1),
        ("DOLLAR", 1),
    ]);
    let body = problem(app.place_order(&buyer.access, mixed).await, 422).await;
    assert_eq!(
        pointers(&body),
        [
            "/items/1/sku",
            "/items/2/sku",
            "/items/3/sku",
            "/items/4/sku"
        ]
    );
    let shapes = [
        (basket(&[]), vec!["/items"]),
        (basket(&[("OK-1", 1); 51]), vec!["/items"]),
        (
            basket(&[("OK-1", 0), ("DOLLAR", 101)]),
            vec!["/items/0/quantity", "/items/1/quantity"],
        ),
        (basket(&[("OK-1", 1), ("OK-1", 2)]), vec!["/items/1/sku"]),
        (
            json!({"items": [{"sku": "OK-1", "quantity": 1}], "shipping_address": {"name": " ", "line1": "x", "city": "y", "postal_code": "z", "country": "gb"}}),
            vec!["/shipping_address/name", "/shipping_address/country"],
        ),
    ];
    for (body, expected) in shapes {
        let problem = problem(app.place_order(&buyer.access, body.clone()).await, 422).await;
        assert_eq!(pointers(&problem), expected, "{body}");
    }
    let anonymous = app.post_json("/orders", basket(&[("OK-1", 1)])).await;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        reconciled_stock(&app, "OK-1").await,
        (5, 0, 0),
        "nothing moved"
    );
}

async fn customers_see_their_own_orders_and_staff_see_every_one(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, for_orders, None).await else {
        return;
    };
    product(&app, "TEE", 1250, "EUR", 50).await;
    let (buyer, other, admin) = (
        app.customer().await,
        app.customer().await,
        app.account(Role::Admin).await,
    );
    let mut ids = Vec::new();
    for quantity in 1..=3 {
        ids.push(placed_id(&app, &buyer.access, basket(&[("TEE", quantity)])).await);
    }
    let id = &ids[2];
    let order = app
        .order_reaching(&buyer.access, id, &["completed"], SOON)
        .await;
    assert_eq!(
        order["items"],
        json!([{"sku": "TEE", "quantity": 3, "unit_price": {"amount": 1250, "currency": "EUR"}}])
    );
    assert_eq!(order["total"], json!({"amount": 3750, "currency": "EUR"}));
    assert_eq!(order["shipping_address"]["line2"], Value::Null);
    assert_eq!(order["reason"], Value::Null);

    let path = format!("/orders/{id}");
    problem(app.get_as(&path, &other.access).await, 404).await;
    assert_eq!(app.get_as(&path, &admin.access).await.status(), 200);
    let mine: Value = app
        .get_as("/orders?limit=2", &buyer.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine["items"][0]["id"], id.as_str(), "newest first");
    let cursor = mine["next_cursor"].as_str().expect("a second page");
    let rest: Value = app
        .get_as(&format!("/orders?limit=2&cursor={cursor}"), &buyer.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest["next_cursor"], Value::Null);
    let theirs: Value = app
        .get_as("/orders", &other.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(theirs["items"], json!([]));
    problem(app.get_as("/orders?all=true", &other.access).await, 403).await;

    let key = |scopes: Value| {
        let body = json!({"name": "orders", "scopes": scopes});
        async {
            let resp = app
                .send_as(Method::POST, "/api-keys", &admin.access, Some(body))
                .await;
            let created: Value = resp.json().await.expect("json");
            created["key"].as_str().expect("key").to_string()
        }
    };
    let reader = key(json!(["orders:read"])).await;
    let completed: Value = app
        .get_as("/orders?all=true&status=completed", &reader)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(completed["items"][0]["id"], id.as_str());
    assert_eq!(app.get_as(&path, &reader).await.status(), 200);
    let unscoped = key(json!(["users:read"])).await;
    problem(app.get_as("/orders?all=true", &unscoped).await, 403).await;
    problem(app.place_order(&reader, basket(&[("TEE", 1)])).await, 403).await;

    let events: Value = app
        .get_as(&format!("{path}/events"), &buyer.access)
        .await
        .json()
        .await
        .expect("json");
    let steps: Vec<(Value, Value)> = events["items"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| (e["to_status"].clone(), e["event"].clone()))
        .collect();
    assert_eq!(
        steps,
        [
            (json!("pending"), Value::Null),
            (json!("reserved"), Value::Null),
            (json!("paid"), json!("order.confirmed")),
            (json!("fulfilled"), Value::Null),
            (json!("completed"), json!("order.completed")),
        ]
    );
    let outbox = format!("/mail/outbox?to={}", buyer.email);
    let subject = || async {
        let page: Value = app
            .get_as(&outbox, &admin.access)
            .await
            .json()
            .await
            .expect("json");
        page["items"][0]["subject"]
            == format!("Your order at {}", app.state.config().mail.site_name)
    };
    eventually("the confirmation email is in the outbox", subject).await;
}

/// Order steps that take long enough at one provider for a cancel to land meanwhile.
fn slow(payment: bool) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        for_orders(c);
        let provider = if payment {
            &mut c.providers.payment
        } else {
            &mut c.providers.shipping
        };
        provider.latency_min = ConfigDuration::millis(1500);
        provider.latency_max = ConfigDuration::millis(1500);
    }
}

async fn cancel(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.send_as(Method::POST, &format!("/orders/{id}/cancel"), token, None)
        .await
}

/// Waits for the refund note in the order's log.
async fn refunded(app: &TestApp, token: &str, id: &str) {
    let path = format!("/orders/{id}/events");
    let noted = || async {
        let events: Value = app.get_as(&path, token).await.json().await.expect("json");
        let notes = events["items"].as_array().cloned().unwrap_or_default();
        notes.iter().any(|e| {
            e["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("refunded"))
        })
    };
    eventually("the order is refunded", noted).await;
}

/// Whether the saga has asked the payment provider to charge order `id` (from the database:
/// the API does not show it).
async fn charge_requested(app: &TestApp, id: &str) -> bool {
    let id: uuid::Uuid = id.parse().expect("order id");
    let order = levee::orders::entity::order::Entity::find_by_id(id)
        .one(app.state.db().write())
        .await
        .expect("read the order");
    order.is_some_and(|o| o.charge_requested_at.is_some())
}

/// A cancel that lands while the charge is under way cannot know whether the money was
/// taken: it releases the stock at once and refunds — once, though the charge's answer
/// comes after the cancel.
async fn an_order_cancelled_during_its_charge_is_released_and_refunded_once(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, slow(true), None).await else {
        return;
    };
    product(&app, "MUG", 800, "EUR", 10).await;
    let buyer = app.customer().await;
    let id = placed_id(&app, &buyer.access, basket(&[("MUG", 4)])).await;
    eventually("the charge is under way", || charge_requested(&app, &id)).await;
    assert_eq!(reconciled_stock(&app, "MUG").await, (10, 4, 0));
    let resp = cancel(&app, &buyer.access, &id).await;
    assert_eq!(resp.status(), 200);
    let order: Value = resp.json().await.expect("json");
    assert_eq!(
        (order["status"].as_str(), order["reason"].as_str()),
        (Some("cancelled"), Some("cancelled by the customer"))
    );
    assert_eq!(
        reconciled_stock(&app, "MUG").await,
        (10, 0, 0),
        "released at once"
    );
    refunded(&app, &buyer.access, &id).await;
    // The charge's late answer loses to the cancel: no second refund, no second release.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(reconciled_stock(&app, "MUG").await, (10, 0, 0));
    let events: Value = app
        .get_as(&format!("/orders/{id}/events"), &buyer.access)
        .await
        .json()
        .await
        .expect("json");
    let refunds = events["items"].as_array().map_or(0, |items| {
        items
            .iter()
            .filter(|e| {
                e["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("refunded"))
            })
            .count()
    });
    assert_eq!(refunds, 1, "{events}");
    let again = problem(cancel(&app, &buyer.access, &id).await, 409).await;
    assert!(
        again["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("cancelled")
    );
}

async fn an_order_cancelled_after_payment_is_refunded_then_released(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, slow(false), None).await else {
        return;
    };
    product(&app, "LAMP", 4500, "EUR", 3).await;
    let (buyer, other, admin) = (
        app.customer().await,
        app.customer().await,
        app.account(Role::Admin).await,
    );
    let id = placed_id(&app, &buyer.access, basket(&[("LAMP", 2)])).await;
    app.order_reaching(&buyer.access, &id, &["paid"], SOON)
        .await;
    problem(cancel(&app, &other.access, &id).await, 404).await;
    let resp = cancel(&app, &admin.access, &id).await;
    assert_eq!(resp.status(), 200);
    let order: Value = resp.json().await.expect("json");
    assert_eq!(order["reason"], "cancelled by staff");
    refunded(&app, &admin.access, &id).await;
    assert_eq!(
        reconciled_stock(&app, "LAMP").await,
        (3, 0, 0),
        "refunded, then released"
    );
    let settled = app.order_reaching(&buyer.access, &id, &SETTLED, SOON).await;
    assert_eq!(
        settled["status"], "cancelled",
        "the shipment step lost the race"
    );

    let done = placed_id(&app, &buyer.access, basket(&[("LAMP", 1)])).await;
    app.order_reaching(&buyer.access, &done, &["completed"], SOON)
        .await;
    problem(cancel(&app, &buyer.access, &done).await, 409).await;
    assert_eq!(reconciled_stock(&app, "LAMP").await, (2, 0, 1));
}

backend_tests!(
    invalid_baskets_are_refused_with_a_pointer_to_each_bad_line,
    customers_see_their_own_orders_and_staff_see_every_one,
    an_order_cancelled_during_its_charge_is_released_and_refunded_once,
    an_order_cancelled_after_payment_is_refunded_then_released,
);

//! Issue 14 hardening: bounded stock adjustments, pruning of auth and cron rows, job kinds
//! left for the workers that know them.

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, pointers};
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};

/// The documented bound on a delta and on the units on hand.
const MAX_STOCK: i64 = 1_000_000_000;

async fn stock_adjustments_are_bounded(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let product = json!({"sku": "BIG", "name": "Big", "price": {"amount": 1, "currency": "EUR"}, "stock": MAX_STOCK - 5});
    let resp = app
        .send_as(Method::POST, "/products", &admin.access, Some(product))
        .await;
    assert_eq!(resp.status(), 201);
    let too_much = json!({"sku": "HUGE", "name": "Huge", "price": {"amount": 1, "currency": "EUR"}, "stock": i64::MAX});
    let resp = app
        .send_as(Method::POST, "/products", &admin.access, Some(too_much))
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        pointers(&resp.json::<Value>().await.expect("json")),
        ["/stock"]
    );

    let adjust = |delta: i64| {
        app.send_as(
            Method::POST,
            "/products/BIG/stock-adjustments",
            &admin.access,
            Some(json!({"delta": delta, "reason": "count"})),
        )
    };
    for delta in [i64::MAX, i64::MIN, MAX_STOCK + 1, -MAX_STOCK - 1, 6] {
        let resp = adjust(delta).await;
        assert_eq!(resp.status(), 422, "delta {delta}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(pointers(&body), ["/delta"], "delta {delta}: {body}");
    }
    let resp = adjust(5).await;
    assert_eq!(resp.status(), 200);
    let stock: Value = resp.json().await.expect("json");
    assert_eq!(
        stock["on_hand"],
        json!(MAX_STOCK),
        "stored as an integer: {stock}"
    );
    let product: Value = app.get("/products/BIG").await.json().await.expect("json");
    assert_eq!(product["available"], json!(MAX_STOCK), "{product}");
}

backend_tests!(stock_adjustments_are_bounded);

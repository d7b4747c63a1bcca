//! `Idempotency-Key` on `POST /orders`: required; a retry replays the first answer and
//! places no second order; another body under the key is 422; a duplicate while the first
//! is still being answered is 409; keys are the caller's own.

use crate::backend_tests;
use crate::helpers::orders::{basket, for_orders, product};
use crate::helpers::{Backend, Session, TestApp, problem};
use levee::config::IdempotencyConfig;
use levee::idempotency::{self, Begin, Fingerprint, Key, KeyScope, Request};
use serde_json::Value;

async fn orders_of(app: &TestApp, buyer: &Session) -> usize {
    let page: Value = app
        .get_as("/orders?limit=100", &buyer.access)
        .await
        .json()
        .await
        .expect("json");
    page["items"].as_array().expect("items").len()
}

async fn a_retried_order_is_answered_again_and_placed_once(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, for_orders, None).await else {
        return;
    };
    product(&app, "KEYED", 500, "EUR", 10).await;
    let buyer = app.customer().await;
    let body = basket(&[("KEYED", 2)]);

    let missing = app
        .send_as(
            reqwest::Method::POST,
            "/orders",
            &buyer.access,
            Some(body.clone()),
        )
        .await;
    let detail = problem(missing, 400).await;
    assert!(
        detail["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Idempotency-Key"),
        "{detail}"
    );

    let first = app
        .post_keyed("/orders", &buyer.access, "order-1", &body)
        .await;
    assert_eq!(first.status(), 202);
    let location = first.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(first.headers().get("idempotency-replayed").is_none());
    let first: Value = first.json().await.expect("json");

    let retry = app
        .post_keyed("/orders", &buyer.access, "order-1", &body)
        .await;
    assert_eq!(retry.status(), 202);
    assert_eq!(retry.headers()["idempotency-replayed"], "true");
    assert_eq!(
        retry.headers()["location"].to_str().expect("location"),
        location
    );
    let retry: Value = retry.json().await.expect("json");
    assert_eq!(
        retry, first,
        "the stored answer, byte for byte the same order"
    );
    assert_eq!(orders_of(&app, &buyer).await, 1);

    let other = app
        .post_keyed(
            "/orders",
            &buyer.access,
            "order-1",
            &basket(&[("KEYED", 3)]),
        )
        .await;
    problem(other, 422).await;
    assert_eq!(orders_of(&app, &buyer).await, 1);

    // Another customer's "order-1" is another key.
    let neighbour = app.customer().await;
    let theirs = app
        .post_keyed("/orders", &neighbour.access, "order-1", &body)
        .await;
    assert_eq!(theirs.status(), 202);
    assert!(theirs.headers().get("idempotency-replayed").is_none());
    assert_eq!(orders_of(&app, &neighbour).await, 1);
    assert_eq!(orders_of(&app, &buyer).await, 1);
}

async fn a_duplicate_while_the_first_is_answered_gets_409(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, for_orders, None).await else {
        return;
    };
    product(&app, "HELD", 500, "EUR", 10).await;
    let buyer = app.customer().await;
    let body = basket(&[("HELD", 1)]);
    // The first request, still running: its claim is taken as the handler takes it.
    let request = Request {
        scope: KeyScope::of("user", buyer.user_id),
        key: Key::parse("held").expect("key"),
        fingerprint: Fingerprint::of("POST", "/orders", &serde_json::to_vec(&body).expect("json")),
    };
    let claim =
        match idempotency::begin(app.state.db(), &IdempotencyConfig::default(), &request).await {
            Ok(Begin::Started(claim)) => claim,
            _ => panic!("the key was free"),
        };
    let duplicate = app
        .post_keyed("/orders", &buyer.access, "held", &body)
        .await;
    problem(duplicate, 409).await;
    assert_eq!(orders_of(&app, &buyer).await, 0);

    claim.release(app.state.db()).await.expect("release");
    let retry = app
        .post_keyed("/orders", &buyer.access, "held", &body)
        .await;
    assert_eq!(retry.status(), 202);
    assert_eq!(orders_of(&app, &buyer).await, 1);
}

backend_tests!(
    a_retried_order_is_answered_again_and_placed_once,
    a_duplicate_while_the_first_is_answered_gets_409,
);

//! Webhooks end to end, with a loopback receiver: signed deliveries that verify with the
//! README's recipe (both secrets during a rotation), retries until a 2xx with the same
//! event id, no event from a change that rolled back, and events of orders and posts.

use crate::backend_tests;
use crate::helpers::orders::{SETTLED, basket, for_orders, product};
use crate::helpers::receiver::{Receiver, Reply, verify};
use crate::helpers::{Backend, Session, TestApp};
use levee::users::Role;
use levee::webhooks::entity::event;
use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use std::time::Duration;

backend_tests!(
    deliveries_are_signed_and_verify_with_both_secrets_during_a_rotation,
    a_failing_receiver_gets_the_same_event_again_until_it_answers_2xx,
    a_rolled_back_change_emits_no_event,
    order_and_post_events_reach_their_subscribers_only,
);

pub const SOON: Duration = Duration::from_secs(20);

async fn rename(app: &TestApp, admin: &Session, sku: &str, name: &str) -> reqwest::Response {
    let body = json!({"name": name});
    app.send_as(
        Method::PATCH,
        &format!("/products/{sku}"),
        &admin.access,
        Some(body),
    )
    .await
}

async fn deliveries_are_signed_and_verify_with_both_secrets_during_a_rotation(backend: Backend) {
    let receiver = Receiver::start().await;
    let Some(app) = receiver.app(backend, |_| {}).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    product(&app, "HOOK-1", 500, "EUR", 3).await;
    let endpoint = app
        .register_webhook(&admin.access, &receiver.url, &["product.updated"])
        .await;
    let secret = endpoint["secret"].as_str().expect("secret").to_string();
    assert!(secret.starts_with("whsec_"));
    let id = endpoint["id"].as_str().expect("id").to_string();

    assert_eq!(
        rename(&app, &admin, "HOOK-1", "Renamed").await.status(),
        200
    );
    let got = receiver.wait_for(1, SOON).await;
    let payload = got[0].json();
    assert_eq!(payload["type"], "product.updated");
    assert_eq!(payload["data"]["sku"], "HOOK-1");
    assert_eq!(payload["data"]["name"], "Renamed");
    assert_eq!(payload["id"].as_str(), Some(got[0].event_id.as_str()));
    assert!(payload["created_at"].is_string());
    assert!(
        verify(&secret, &got[0].signature, &got[0].body),
        "{}",
        got[0].signature
    );
    assert!(!verify("whsec_wrong", &got[0].signature, &got[0].body));

    let rotated = app
        .send_as(
            Method::POST,
            &format!("/webhook-endpoints/{id}/rotate-secret"),
            &admin.access,
            None,
        )
        .await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.expect("json");
    let new_secret = rotated["secret"].as_str().expect("secret").to_string();
    assert_ne!(new_secret, secret);
    assert!(rotated["previous_secret_until"].is_string());
    assert_eq!(rename(&app, &admin, "HOOK-1", "Again").await.status(), 200);
    let got = receiver.wait_for(2, SOON).await;
    assert_eq!(
        got[1].signature.matches("v1=").count(),
        2,
        "{}",
        got[1].signature
    );
    assert!(verify(&new_secret, &got[1].signature, &got[1].body));
    assert!(
        verify(&secret, &got[1].signature, &got[1].body),
        "the old one still signs"
    );

    let list: Value = app
        .get_as("/webhook-endpoints", &admin.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    assert!(
        !list.to_string().contains(&new_secret),
        "lists never show secrets"
    );
    assert_eq!(
        app.webhook_attempts(&admin.access, &id).await[0]["outcome"],
        "delivered"
    );
}

async fn a_failing_receiver_gets_the_same_event_again_until_it_answers_2xx(backend: Backend) {
    let receiver = Receiver::start().await;
    receiver.script(&[Reply::Status(500), Reply::Status(503)]);
    let Some(app) = receiver.app(backend, |_| {}).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    product(&app, "HOOK-2", 500, "EUR", 3).await;
    let endpoint = app
        .register_webhook(&admin.access, &receiver.url, &["product.updated"])
        .await;
    assert_eq!(
        rename(&app, &admin, "HOOK-2", "Retried").await.status(),
        200
    );

    let got = receiver.wait_for(3, SOON).await;
    assert!(
        got.iter().all(|r| r.event_id == got[0].event_id),
        "one event id on every attempt"
    );
    assert!(
        got[2].at - got[0].at >= Duration::from_millis(150),
        "retries wait"
    );
    let id = endpoint["id"].as_str().expect("id");
    crate::helpers::orders::eventually("the delivery is recorded as delivered", || async {
        app.webhook_attempts(&admin.access, id)
            .await
            .first()
            .map(|a| a["delivery_status"].clone())
            == Some(json!("delivered"))
    })
    .await;
    let log = app.webhook_attempts(&admin.access, id).await;
    let outcomes: Vec<(&Value, &Value)> = log
        .iter()
        .map(|a| (&a["outcome"], &a["status_code"]))
        .collect();
    assert_eq!(
        outcomes,
        [
            (&json!("delivered"), &json!(204)),
            (&json!("failed"), &json!(503)),
            (&json!("failed"), &json!(500))
        ]
    );
    let delivery = log[0]["delivery_id"].as_str().expect("delivery");
    let resent = app
        .send_as(
            Method::POST,
            &format!("/webhook-deliveries/{delivery}/resend"),
            &admin.access,
            None,
        )
        .await;
    assert_eq!(resent.status(), 202);
    let again = receiver.wait_for(4, SOON).await;
    assert_eq!(
        again[3].event_id, got[0].event_id,
        "a resend is the same event"
    );
}

async fn events_stored(app: &TestApp) -> u64 {
    event::Entity::find()
        .count(app.state.db().write())
        .await
        .expect("count")
}

async fn a_rolled_back_change_emits_no_event(backend: Backend) {
    let receiver = Receiver::start().await;
    let Some(app) = receiver.app(backend, |_| {}).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    product(&app, "HOOK-3", 500, "EUR", 3).await;
    product(&app, "HOOK-4", 500, "EUR", 3).await;
    app.register_webhook(&admin.access, &receiver.url, &["product.updated"])
        .await;
    let stale = app
        .client
        .patch(app.url("/products/HOOK-3"))
        .bearer_auth(&admin.access)
        .header("If-Match", "\"v999\"")
        .json(&json!({"name": "Never"}))
        .send()
        .await
        .expect("request");
    assert_eq!(stale.status(), 412);
    let taken = app
        .send_as(
            Method::PATCH,
            "/products/HOOK-3",
            &admin.access,
            Some(json!({"sku": "HOOK-4"})),
        )
        .await;
    assert_eq!(
        taken.status(),
        409,
        "the rename fails inside its transaction"
    );
    assert_eq!(rename(&app, &admin, "HOOK-4", "Kept").await.status(), 200);
    let got = receiver.wait_for(1, SOON).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "only the committed edit: {got:?}"
    );
    assert_eq!(got[0].json()["data"]["name"], "Kept");
    assert_eq!(events_stored(&app).await, 1);
}

async fn order_and_post_events_reach_their_subscribers_only(backend: Backend) {
    let receiver = Receiver::start().await;
    let Some(app) = receiver.app(backend, for_orders).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    product(&app, "HOOK-5", 500, "EUR", 1).await;
    app.register_webhook(
        &admin.access,
        &receiver.url,
        &["order.confirmed", "order.completed", "post.published"],
    )
    .await;
    let buyer = app.customer().await;
    let resp = app
        .place_order(&buyer.access, basket(&[("HOOK-5", 1)]))
        .await;
    assert_eq!(resp.status(), 202);
    let order: Value = resp.json().await.expect("json");
    let order_id = order["id"].as_str().expect("id").to_string();
    app.order_reaching(&buyer.access, &order_id, &SETTLED, SOON)
        .await;
    let resp = app
        .send_as(
            Method::POST,
            "/posts",
            &admin.access,
            Some(json!({"title": "Hooked", "body": "b"})),
        )
        .await;
    let post: Value = resp.json().await.expect("json");
    let slug = post["slug"].as_str().expect("slug");
    let publish = app
        .send_as(
            Method::POST,
            &format!("/posts/{slug}/publish"),
            &admin.access,
            None,
        )
        .await;
    assert_eq!(publish.status(), 200);

    let got = receiver.wait_for(3, SOON).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut types: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap_or_default().to_string())
        .collect();
    types.sort();
    assert_eq!(
        types,
        ["order.completed", "order.confirmed", "post.published"],
        "{got:?}"
    );
    let confirmed = got
        .iter()
        .map(|r| r.json())
        .find(|p| p["type"] == "order.confirmed")
        .expect("confirmed");
    assert_eq!(confirmed["data"]["order_id"], order_id.as_str());
}

//! The providers' guards under a provider outage: a payment provider that stops answering
//! opens its circuit breaker after the window, calls then fail fast (no pile-up of waiting
//! calls), the saga waits instead of failing orders, and a half-open probe closes the
//! breaker once the provider is back, so the orders complete — each charged once. And the
//! compensations the outage and a racing cancel need: an order that reaches its deadline
//! while the breaker is open is released without a charge or refund, and a shipment
//! created after a cancel is recalled.

use crate::backend_tests;
use crate::helpers::fake_provider::{Action, FakeProvider, Mode};
use crate::helpers::orders::{
    all_settled, basket, eventually, eventually_within, for_orders, orders_in, product,
    reconciled_stock,
};
use crate::helpers::{Backend, TestApp};
use levee::config::{Config, Duration as ConfigDuration, IntIn};
use levee::orders::OrderStatus;
use levee::resilience::{DependencyView, State};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;
use uuid::Uuid;

fn payment_guard(app: &TestApp) -> DependencyView {
    let guards = app.state.providers().guards();
    guards
        .into_iter()
        .find(|g| g.name == "payment")
        .expect("a payment guard")
}

/// Orders through the fake, charges timing out after 200 ms, the payment breaker open for
/// `open_for` once it trips.
fn outage(fake: &FakeProvider, open_for: Duration) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        for_orders(c);
        fake.configure(c);
        c.providers.payment.timeout = ConfigDuration::millis(200);
        c.resilience.payment.open_for = Some(ConfigDuration::millis(open_for.as_millis() as u64));
    }
}

async fn place(app: &TestApp, token: &str, sku: &str) -> Uuid {
    let order: Value = app
        .place_order(token, basket(&[(sku, 1)]))
        .await
        .json()
        .await
        .expect("json");
    order["id"].as_str().expect("id").parse().expect("uuid")
}

async fn a_provider_outage_opens_the_breaker_and_orders_complete_after_recovery(backend: Backend) {
    let fake = FakeProvider::start().await;
    fake.set_mode_of(Action::Charges, Mode::Hanging);
    let open_for = Duration::from_secs(5);
    let Some(app) = TestApp::spawn_with(backend, outage(&fake, open_for), None).await else {
        return;
    };
    product(&app, "TENT", 9900, "EUR", 100).await;
    let buyers = app.customers(20).await;
    for buyer in &buyers {
        place(&app, &buyer.access, "TENT").await;
    }
    let opened = || async { payment_guard(&app).breaker.state == State::Open };
    eventually_within(Duration::from_secs(30), "the payment breaker opens", opened).await;

    // Open: steps wait without calling. The calls made are the window's, plus at most the
    // ones already in flight when it opened (8 concurrent steps in these tests).
    let charges = || {
        fake.calls()
            .iter()
            .filter(|c| c.action == Action::Charges)
            .count()
    };
    let at_open = charges();
    assert!(
        (10..=18).contains(&at_open),
        "{at_open} charges before it opened"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let guard = payment_guard(&app);
    assert_eq!(guard.breaker.state, State::Open, "{guard:?}");
    assert_eq!(charges(), at_open, "no call while the breaker is open");
    assert_eq!(guard.bulkhead_in_use, 0, "nothing waits on the provider");
    let unsettled = orders_in(&app, &[OrderStatus::Reserved]).await;
    assert_eq!(unsettled, 20, "every order waits, reserved, none failed");

    fake.set_mode(Mode::Normal);
    let orders = all_settled(&app, Duration::from_secs(60)).await;
    assert!(
        orders.iter().all(|o| o.status == OrderStatus::Completed),
        "{:?}",
        orders.iter().map(|o| o.status).collect::<Vec<_>>()
    );
    let guard = payment_guard(&app);
    let path: Vec<State> = guard.breaker.transitions.iter().map(|t| t.to).collect();
    assert_eq!(guard.breaker.state, State::Closed, "{guard:?}");
    assert!(
        path.windows(3)
            .any(|w| w == [State::Open, State::HalfOpen, State::Closed]),
        "{path:?}"
    );
    for order in &orders {
        let acted = fake
            .calls_for_order(order.id)
            .into_iter()
            .filter(|c| c.action == Action::Charges && c.acted)
            .count();
        assert_eq!(acted, 1, "order {} charged once", order.id);
    }
    assert_eq!(reconciled_stock(&app, "TENT").await, (80, 0, 20));
}

async fn an_order_past_its_deadline_while_the_breaker_is_open_is_released_uncharged(
    backend: Backend,
) {
    let fake = FakeProvider::start().await;
    fake.set_mode_of(Action::Charges, Mode::Failing);
    let config = |c: &mut Config| {
        outage(&fake, Duration::from_secs(600))(c);
        c.resilience.payment.window = Some(IntIn::new(2));
        c.resilience.payment.minimum_calls = Some(IntIn::new(2));
        c.orders.deadline = ConfigDuration::secs(3);
    };
    let Some(app) = TestApp::spawn_with(backend, config, None).await else {
        return;
    };
    product(&app, "STOVE", 5000, "EUR", 10).await;
    let buyer = app.customer().await;
    // Two orders whose charges fail open the breaker (window 2)...
    place(&app, &buyer.access, "STOVE").await;
    place(&app, &buyer.access, "STOVE").await;
    let opened = || async { payment_guard(&app).breaker.state == State::Open };
    eventually("the payment breaker opens", opened).await;
    // ...and a third, placed while it is open, is never charged: at its deadline it fails
    // and its stock goes back without a refund.
    let id = place(&app, &buyer.access, "STOVE").await;
    let order = app
        .order_reaching(
            &buyer.access,
            &id.to_string(),
            &["failed"],
            Duration::from_secs(20),
        )
        .await;
    assert!(
        order["reason"]
            .as_str()
            .is_some_and(|r| r.contains("circuit breaker payment is open")),
        "{order}"
    );
    assert_eq!(fake.calls_for_order(id).len(), 0, "no charge, no refund");
    all_settled(&app, Duration::from_secs(20)).await;
    assert_eq!(reconciled_stock(&app, "STOVE").await, (10, 0, 0));
}

async fn a_shipment_created_after_a_cancel_is_recalled(backend: Backend) {
    let fake = FakeProvider::start().await;
    fake.set_mode_of(Action::Shipments, Mode::Slow(Duration::from_millis(1500)));
    let config = |c: &mut Config| {
        for_orders(c);
        fake.configure(c);
    };
    let Some(app) = TestApp::spawn_with(backend, config, None).await else {
        return;
    };
    product(&app, "BIKE", 30000, "EUR", 5).await;
    let buyer = app.customer().await;
    let id = place(&app, &buyer.access, "BIKE").await;
    let shipping = || async {
        fake.calls_for_order(id)
            .iter()
            .any(|c| c.action == Action::Shipments)
    };
    eventually("the shipment is being created", shipping).await;
    let cancelled = app
        .send_as(
            Method::POST,
            &format!("/orders/{id}/cancel"),
            &buyer.access,
            None,
        )
        .await;
    assert_eq!(cancelled.status(), 200, "paid orders may be cancelled");
    let recalled = || async {
        fake.calls_for_order(id)
            .iter()
            .any(|c| c.action == Action::Cancellations && c.acted)
    };
    eventually("the shipment is recalled", recalled).await;
    let recall = fake
        .calls_for_order(id)
        .into_iter()
        .find(|c| c.action == Action::Cancellations)
        .expect("the recall");
    assert_eq!(recall.key, format!("{id}:recall"));
    assert_eq!(recall.body["reference"], format!("fake-{id}:ship"));
    let settled = || async { reconciled_stock(&app, "BIKE").await == (5, 0, 0) };
    eventually("refunded and released", settled).await;
}

backend_tests!(
    a_provider_outage_opens_the_breaker_and_orders_complete_after_recovery,
    an_order_past_its_deadline_while_the_breaker_is_open_is_released_uncharged,
    a_shipment_created_after_a_cancel_is_recalled,
);

//! A charge whose answer never arrived (the call timed out, or the worker died while it
//! waited) may have been taken: the provider acted, only the answer was lost. An order
//! that then ends without payment — cancelled, or failed at its deadline — must still be
//! refunded under its key, or the customer paid for nothing.

use crate::backend_tests;
use crate::helpers::fake_provider::{Action, FakeProvider, Mode};
use crate::helpers::orders::{basket, eventually, for_orders, product, reconciled_stock};
use crate::helpers::{Backend, TestApp};
use levee::config::{Config, Duration as ConfigDuration};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;
use uuid::Uuid;

/// Charges that the fake takes at once but answers only after levee's timeout.
fn unanswered_charges(fake: &FakeProvider) -> impl FnOnce(&mut Config) {
    fake.set_mode_of(Action::Charges, Mode::Slow(Duration::from_secs(3)));
    move |c: &mut Config| {
        for_orders(c);
        fake.configure(c);
        c.providers.payment.timeout = ConfigDuration::millis(500);
    }
}

/// Places an order and waits until the fake has taken its charge.
async fn charged_without_answer(app: &TestApp, fake: &FakeProvider, token: &str) -> Uuid {
    let resp = app.place_order(token, basket(&[("KETTLE", 1)])).await;
    let order: Value = resp.json().await.expect("json");
    let id: Uuid = order["id"].as_str().expect("id").parse().expect("uuid");
    let taken = || async { fake.calls_for_order(id).iter().any(|c| c.acted) };
    eventually("the charge is taken", taken).await;
    id
}

/// Waits until the fake has refunded `id`, after answering every charge on time again.
async fn refunded(fake: &FakeProvider, id: Uuid) {
    fake.set_mode(Mode::Normal);
    let refund = || async {
        let calls = fake.calls_for_order(id);
        calls.iter().any(|c| c.action == Action::Refunds && c.acted)
    };
    eventually("the charge taken for the order is refunded", refund).await;
}

async fn an_order_cancelled_while_its_charge_went_unanswered_is_refunded(backend: Backend) {
    let fake = FakeProvider::start().await;
    let Some(app) = TestApp::spawn_with(backend, unanswered_charges(&fake), None).await else {
        return;
    };
    product(&app, "KETTLE", 3900, "EUR", 5).await;
    let buyer = app.customer().await;
    let id = charged_without_answer(&app, &fake, &buyer.access).await;

    let path = format!("/orders/{id}/cancel");
    let resp = app.send_as(Method::POST, &path, &buyer.access, None).await;
    assert_eq!(
        resp.status(),
        200,
        "still reserved: levee never saw the charge"
    );
    refunded(&fake, id).await;
    assert_eq!(reconciled_stock(&app, "KETTLE").await, (5, 0, 0));
}

async fn an_order_failed_at_its_deadline_after_an_unanswered_charge_is_refunded(backend: Backend) {
    let fake = FakeProvider::start().await;
    let tweak = |c: &mut Config| {
        unanswered_charges(&fake)(c);
        c.orders.deadline = ConfigDuration::secs(2);
    };
    let Some(app) = TestApp::spawn_with(backend, tweak, None).await else {
        return;
    };
    product(&app, "KETTLE", 3900, "EUR", 5).await;
    let buyer = app.customer().await;
    let id = charged_without_answer(&app, &fake, &buyer.access).await;

    let failed = app
        .order_reaching(
            &buyer.access,
            &id.to_string(),
            &["failed"],
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(failed["status"], "failed");
    refunded(&fake, id).await;
    assert_eq!(reconciled_stock(&app, "KETTLE").await, (5, 0, 0));
}

backend_tests!(
    an_order_cancelled_while_its_charge_went_unanswered_is_refunded,
    an_order_failed_at_its_deadline_after_an_unanswered_charge_is_refunded,
);

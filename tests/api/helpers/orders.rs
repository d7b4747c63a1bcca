//! Orders in tests: products with stock, customers made in bulk, placing orders and
//! waiting for them to settle, and checking that stock reconciles with its ledger.

use super::app::TestApp;
use super::requests::{PASSWORD, Session};
use levee::config::{Config, Duration as ConfigDuration, IntIn};
use levee::inventory::{self, LedgerKind};
use levee::orders::OrderStatus;
use levee::orders::entity::order;
use levee::products::{self, Currency, Money, NewProduct, Sku};
use levee::users::Role;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// States an order does not leave by itself.
pub const SETTLED: [&str; 4] = ["completed", "rejected", "failed", "cancelled"];

/// Fast workers with room for a crowd: short polls, more concurrent steps, and a long
/// wait for SQLite's one write connection. Tests run with rate limiting off
/// (`test_config`), which is the limit a crowd of buyers needs raised.
pub fn for_orders(c: &mut Config) {
    c.jobs.poll_interval = ConfigDuration::millis(50);
    c.jobs.queues.insert("default".into(), IntIn::new(8));
    c.database.acquire_timeout = ConfigDuration::secs(60);
    c.server.request_timeout = ConfigDuration::secs(60);
}

/// Creates a product priced `amount` cents with `stock` units, straight in the database.
pub async fn product(app: &TestApp, sku: &str, amount: i64, currency: &str, stock: i64) {
    let new = NewProduct {
        sku: Sku::parse(sku, "/sku").expect("sku"),
        name: format!("Product {sku}"),
        description: String::new(),
        price: Money {
            amount,
            currency: Currency::parse(currency, "/currency").expect("currency"),
        },
        stock,
    };
    products::service::create(&app.state, new, "test")
        .await
        .expect("product");
}

pub fn address() -> Value {
    json!({"name": "Ada Lovelace", "line1": "1 Main St", "city": "London", "postal_code": "N1 9GU", "country": "GB"})
}

pub fn basket(items: &[(&str, i64)]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|(sku, quantity)| json!({"sku": sku, "quantity": quantity}))
        .collect();
    json!({"items": items, "shipping_address": address()})
}

impl TestApp {
    /// `count` customers made in the database as the CLI does (tests hash cheaply, so this
    /// is quick), then signed in, fifty at a time.
    pub async fn customers(&self, count: usize) -> Vec<Session> {
        let mut emails = Vec::with_capacity(count);
        for _ in 0..count {
            emails.push(self.new_account(Role::Customer).await.1);
        }
        let mut sessions = Vec::with_capacity(count);
        for chunk in emails.chunks(50) {
            let logins = chunk.iter().map(|e| self.session(e, PASSWORD));
            sessions.extend(futures_util::future::join_all(logins).await);
        }
        sessions
    }

    /// Places an order under a fresh `Idempotency-Key`.
    pub async fn place_order(&self, token: &str, body: Value) -> reqwest::Response {
        let key = uuid::Uuid::new_v4().to_string();
        self.post_keyed("/orders", token, &key, &body).await
    }

    /// Polls the order until it is in one of `states`; panics after `limit`.
    pub async fn order_reaching(
        &self,
        token: &str,
        id: &str,
        states: &[&str],
        limit: Duration,
    ) -> Value {
        let started = Instant::now();
        loop {
            let order: Value = self
                .get_as(&format!("/orders/{id}"), token)
                .await
                .json()
                .await
                .expect("order json");
            let status = order["status"].as_str().unwrap_or_default();
            if states.contains(&status) {
                return order;
            }
            assert!(started.elapsed() < limit, "order {id} stuck at {order}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits until `check` holds, asking every 50 ms; panics naming `what` after 10 s.
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_within(Duration::from_secs(10), what, check).await;
}

/// `eventually` with another bound.
pub async fn eventually_within<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "never within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every order, once none is still on its way; after `limit` it panics naming (the first
/// twenty of) the orders still on their way and where each stands.
pub async fn all_settled(app: &TestApp, limit: Duration) -> Vec<order::Model> {
    let started = Instant::now();
    loop {
        let unsettled = order::Entity::find()
            .filter(order::Column::Status.is_not_in(SETTLED))
            .all(app.state.db().write())
            .await
            .expect("orders");
        if unsettled.is_empty() {
            break;
        }
        if started.elapsed() > limit {
            let stuck: Vec<String> = unsettled
                .iter()
                .take(20)
                .map(|o| format!("{} {}", o.id, o.status.as_str()))
                .collect();
            panic!(
                "{} orders never settled within {limit:?}: {}",
                unsettled.len(),
                stuck.join(", ")
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    order::Entity::find()
        .all(app.state.db().write())
        .await
        .expect("orders")
}

/// How many orders are in one of `states`.
pub async fn orders_in(app: &TestApp, states: &[OrderStatus]) -> u64 {
    order::Entity::find()
        .filter(order::Column::Status.is_in(states.iter().copied()))
        .count(app.state.db().write())
        .await
        .expect("count")
}

/// Stock of `sku`, checked against its ledger: the sums of the ledger's deltas are the
/// levels, and nothing is negative. Returns `(on_hand, reserved, sold)`.
pub async fn reconciled_stock(app: &TestApp, sku: &str) -> (i64, i64, i64) {
    let sku = Sku::parse(sku, "/sku").expect("sku");
    let db = app.state.db().write();
    let id = products::service::id_of(&app.state, &sku)
        .await
        .expect("db")
        .expect("product");
    let read_levels = || async {
        inventory::levels(db, id)
            .await
            .expect("db")
            .expect("levels")
    };
    // The levels and the ledger are two reads: a stock move committed between them would
    // look like a mismatch, so they are read until the levels held still around the ledger.
    let (levels, ledger) = loop {
        let before = read_levels().await;
        let ledger = inventory::ledger(db, id, None, 1_000_000)
            .await
            .expect("ledger");
        let after = read_levels().await;
        if (before.on_hand, before.reserved) == (after.on_hand, after.reserved) {
            break (after, ledger);
        }
    };
    let on_hand: i64 = ledger.iter().map(|e| e.on_hand_delta).sum();
    let reserved: i64 = ledger.iter().map(|e| e.reserved_delta).sum();
    assert_eq!(
        (levels.on_hand, levels.reserved),
        (on_hand, reserved),
        "ledger reconciles"
    );
    assert!(
        levels.reserved >= 0 && levels.available() >= 0,
        "{levels:?}"
    );
    let sold = -ledger
        .iter()
        .filter(|e| e.kind == LedgerKind::Commit)
        .map(|e| e.on_hand_delta)
        .sum::<i64>();
    (levels.on_hand, levels.reserved, sold)
}

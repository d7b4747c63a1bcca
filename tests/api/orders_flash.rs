//! The flash sale: hundreds of customers buying one hot product at once, with and without a
//! failing payment provider. Stock never oversells, and it reconciles with its ledger.

use crate::backend_tests;
use crate::helpers::orders::{all_settled, basket, for_orders, product, reconciled_stock};
use crate::helpers::{Backend, Session, TestApp, levee_command};
use levee::orders::OrderStatus;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Every buyer orders one unit of `sku` at once; all are accepted with 202 and a relative
/// `Location`.
async fn rush<'a>(app: &TestApp, buyers: impl IntoIterator<Item = &'a str>, sku: &str) {
    let started = Instant::now();
    let orders = buyers.into_iter().map(|token| async move {
        let resp = app.place_order(token, basket(&[(sku, 1)])).await;
        assert_eq!(resp.status(), 202);
        let location = resp.headers()["location"]
            .to_str()
            .expect("location")
            .to_string();
        let order: Value = resp.json().await.expect("json");
        assert_eq!(order["status"], "pending");
        assert_eq!(
            location,
            format!("/orders/{}", order["id"].as_str().expect("id"))
        );
    });
    let placed = futures_util::future::join_all(orders).await.len();
    eprintln!("{placed} orders accepted in {:?}", started.elapsed());
}

fn access_tokens(sessions: &[Session]) -> impl Iterator<Item = &str> {
    sessions.iter().map(|s| s.access.as_str())
}

/// Waits until no order is still on its way, then returns the count in each state.
async fn settle(app: &TestApp, limit: Duration) -> Vec<(OrderStatus, u64)> {
    let started = Instant::now();
    let orders = all_settled(app, limit).await;
    eprintln!("settled in {:?}", started.elapsed());
    let settled = [
        OrderStatus::Completed,
        OrderStatus::Rejected,
        OrderStatus::Failed,
        OrderStatus::Cancelled,
    ];
    let count = |status| orders.iter().filter(|o| o.status == status).count() as u64;
    settled.into_iter().map(|s| (s, count(s))).collect()
}

async fn a_flash_sale_sells_exactly_the_stock_and_rejects_the_rest(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, for_orders, None).await else {
        return;
    };
    product(&app, "HOT-1", 1999, "EUR", 100).await;
    let buyers = app.customers(500).await;
    rush(&app, access_tokens(&buyers), "HOT-1").await;
    let counts = settle(&app, Duration::from_secs(240)).await;
    assert_eq!(
        counts,
        [
            (OrderStatus::Completed, 100),
            (OrderStatus::Rejected, 400),
            (OrderStatus::Failed, 0),
            (OrderStatus::Cancelled, 0)
        ]
    );
    assert_eq!(reconciled_stock(&app, "HOT-1").await, (0, 0, 100));
    let public: Value = app.get_json("/products/HOT-1").await;
    assert_eq!(public["available"], 0, "the cached figure was invalidated");
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(metrics.contains("levee_orders_total{status=\"completed\"}"));
    assert!(metrics.contains("levee_saga_step_duration_seconds"));
}

async fn a_declining_payment_provider_fails_orders_and_returns_their_stock(backend: Backend) {
    let tweak = |c: &mut levee::config::Config| {
        for_orders(c);
        c.providers.payment.failure_rate = 0.3;
    };
    let Some(app) = TestApp::spawn_with(backend, tweak, None).await else {
        return;
    };
    product(&app, "HOT-2", 500, "EUR", 200).await;
    let buyers = app.customers(150).await;
    rush(&app, access_tokens(&buyers), "HOT-2").await;
    let counts = settle(&app, Duration::from_secs(180)).await;
    let (completed, failed) = (counts[0].1 as i64, counts[2].1 as i64);
    assert_eq!(completed + failed, 150, "{counts:?}");
    assert!(
        (20..=70).contains(&failed),
        "about 30% declined: {counts:?}"
    );
    let (on_hand, reserved, sold) = reconciled_stock(&app, "HOT-2").await;
    assert_eq!((on_hand, reserved, sold), (200 - completed, 0, completed));
}

/// `levee seed` as `bench/run` uses it: the hot product with the stock asked for, and
/// customers whose written tokens place orders.
async fn seeded_customers_buy_the_seeded_stock_with_the_tokens_written(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, for_orders, None).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let tokens = dir.path().join("tokens");
    let seed = || {
        let args = [
            "seed",
            "--products",
            "1",
            "--stock",
            "2",
            "--customers",
            "3",
        ];
        let out = levee_command(&args)
            .args(["--tokens", tokens.to_str().expect("utf-8")])
            .env("LEVEE_DATABASE__URL", &app.db_url)
            .output()
            .expect("run");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(seed().contains("customers: 3 seed customers present"));
    let first = std::fs::read_to_string(&tokens).expect("tokens");
    let out = seed();
    assert!(out.contains("customers: 3 seed customers present"), "{out}");
    let written = std::fs::read_to_string(&tokens).expect("tokens");
    let buyers: Vec<&str> = written.lines().collect();
    assert_eq!(buyers.len(), 3);
    assert_ne!(first.lines().next(), Some(buyers[0]), "fresh tokens");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&tokens)
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "tokens are credentials");
    rush(&app, buyers, "SEED-000001").await;
    let counts = settle(&app, Duration::from_secs(60)).await;
    assert_eq!((counts[0].1, counts[1].1), (2, 1), "{counts:?}");
    assert_eq!(reconciled_stock(&app, "SEED-000001").await, (0, 0, 2));
}

backend_tests!(
    a_flash_sale_sells_exactly_the_stock_and_rejects_the_rest,
    a_declining_payment_provider_fails_orders_and_returns_their_stock,
    seeded_customers_buy_the_seeded_stock_with_the_tokens_written,
);

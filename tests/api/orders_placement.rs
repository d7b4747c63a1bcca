//! The placement writer commits orders placed at the same time together, yet each order
//! with its `Idempotency-Key`'s response or not at all: an order whose claim was taken
//! over is left out, and one that fails (here: a customer that does not exist) fails alone.

use crate::backend_tests;
use crate::helpers::orders::{basket, for_orders, product};
use crate::helpers::{Backend, Session, TestApp};
use levee::config::IdempotencyConfig;
use levee::db::ids::UserId;
use levee::idempotency::{
    self, Begin, Claim, Fingerprint, IdempotencyError, Key, KeyScope, Request, StoredResponse,
};
use levee::orders::entity::{line, order};
use levee::orders::{OrderStatus, Placed, StockHold};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::time::Duration;
use uuid::Uuid;

async fn claim(app: &TestApp, config: &IdempotencyConfig, buyer: &Session, key: &str) -> Claim {
    let request = Request {
        scope: KeyScope::of("user", buyer.user_id),
        key: Key::parse(key).expect("key"),
        fingerprint: Fingerprint::of("POST", "/orders", key.as_bytes()),
    };
    match idempotency::begin(app.state.db(), config, &request).await {
        Ok(Begin::Started(claim)) => claim,
        _ => panic!("the key {key} was not free"),
    }
}

/// A copy of a placed order (wherever its saga took it since) as just placed, under a
/// new id, for `user`.
fn copy(template: &Placed, user: UserId) -> Placed {
    let id = Uuid::now_v7();
    let order = order::Model {
        id,
        user_id: user,
        status: OrderStatus::Pending,
        stock: StockHold::None,
        payment_ref: None,
        shipment_ref: None,
        reason: None,
        charge_requested_at: None,
        ..template.order.clone()
    };
    let lines = template
        .lines
        .iter()
        .map(|l| line::Model {
            order_id: id,
            ..l.clone()
        })
        .collect();
    Placed { order, lines }
}

async fn key_state(app: &TestApp, key: &str) -> String {
    let db = app.state.db();
    let select = db.statement(
        "SELECT state FROM idempotency_keys WHERE key = $1",
        vec![key.into()],
    );
    let row = db.write().query_one_raw(select).await.expect("select");
    row.expect("the key's row")
        .try_get("", "state")
        .expect("state")
}

async fn orders_placed_together_commit_each_with_its_key_or_not_at_all(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, for_orders, None).await else {
        return;
    };
    product(&app, "GROUP", 500, "EUR", 10).await;
    let buyer = app.customer().await;
    let placed = app
        .place_order(&buyer.access, basket(&[("GROUP", 1)]))
        .await;
    assert_eq!(placed.status(), 202);
    let db = app.state.db().write();
    let template = Placed {
        order: order::Entity::find()
            .one(db)
            .await
            .expect("find")
            .expect("order"),
        lines: line::Entity::find().all(db).await.expect("lines"),
    };

    // "lost" is taken over once its lease runs out; its holder's order must not land.
    let short = IdempotencyConfig {
        lease: levee::config::Duration::secs(1),
        ..IdempotencyConfig::default()
    };
    let lost = claim(&app, &short, &buyer, "lost").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let _taker = claim(&app, &IdempotencyConfig::default(), &buyer, "lost").await;
    let kept = claim(&app, &IdempotencyConfig::default(), &buyer, "kept").await;
    let orphan = claim(&app, &IdempotencyConfig::default(), &buyer, "orphan").await;
    let response = StoredResponse {
        status: 202,
        headers: Vec::new(),
        body: "{}".into(),
    };
    let (kept_order, lost_order) = (
        copy(&template, UserId(buyer.user_id)),
        copy(&template, UserId(buyer.user_id)),
    );
    let orphan_order = copy(&template, UserId::generate());
    let writer = app.state.placements();
    let (kept_write, lost_write, orphan_write) = tokio::join!(
        writer.write(kept_order.clone(), kept.completion(response.clone())),
        writer.write(lost_order.clone(), lost.completion(response.clone())),
        writer.write(orphan_order.clone(), orphan.completion(response.clone())),
    );

    assert!(kept_write.is_ok(), "{kept_write:?}");
    assert!(
        matches!(lost_write, Err(IdempotencyError::ClaimLost)),
        "{lost_write:?}"
    );
    assert!(
        matches!(orphan_write, Err(IdempotencyError::Db(_))),
        "{orphan_write:?}"
    );
    let stored = |id: Uuid| order::Entity::find_by_id(id).one(db);
    assert!(stored(kept_order.order.id).await.expect("find").is_some());
    assert!(stored(lost_order.order.id).await.expect("find").is_none());
    assert!(stored(orphan_order.order.id).await.expect("find").is_none());
    assert_eq!(
        line::Entity::find()
            .filter(line::Column::OrderId.eq(kept_order.order.id))
            .count(db)
            .await
            .expect("count"),
        1,
        "the kept order's line is written with it"
    );
    assert_eq!(key_state(&app, "kept").await, "completed");
    assert_eq!(
        key_state(&app, "lost").await,
        "processing",
        "the taker's claim stands"
    );
    assert_eq!(
        key_state(&app, "orphan").await,
        "processing",
        "nothing stored"
    );
    // The kept order's saga runs: it completes like any other.
    app.order_reaching(
        &buyer.access,
        &kept_order.order.id.to_string(),
        &["completed"],
        Duration::from_secs(20),
    )
    .await;
}

backend_tests!(orders_placed_together_commit_each_with_its_key_or_not_at_all);

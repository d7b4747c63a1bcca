//! Orders survive `kill -9` of the worker in the middle of their sagas: the saga's steps
//! run in a `levee worker` process against a slow fake provider, the worker dies with
//! provider calls in flight, and a new worker finishes every order from the jobs whose
//! lease expired. No order is charged twice (nor under a second key), every completed
//! order was charged and shipped once, every charged order that did not complete was
//! refunded, and the stock reconciles with its ledger.
//!
//! The API is the application inside the test process with `jobs.run_in_serve = false`,
//! as `levee serve` runs it then; only the worker is a separate process, the one killed.
//! Both share the database, a PostgreSQL one or a SQLite file.

use crate::backend_tests;
use crate::helpers::fake_provider::{Action, Call, FakeProvider, Mode};
use crate::helpers::orders::{
    all_settled, basket, eventually_within, for_orders, orders_in, product, reconciled_stock,
};
use crate::helpers::{Backend, LeveeProcess, TestApp};
use levee::jobs::{JobKind, JobState, entity as job};
use levee::orders::entity::order;
use levee::orders::{OrderStatus, OrderStep};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Orders placed before the kill.
const BEFORE_KILL: usize = 48;
/// Orders placed while no worker runs.
const WHILE_DOWN: usize = 12;
/// Enough for every order: none is rejected.
const STOCK: i64 = 100;
/// Each provider call takes this long, so sagas are in flight when the worker dies.
const SLOW: Mode = Mode::Slow(Duration::from_millis(300));

/// A config file for `levee worker` on the app's database and Redis, calling the fake:
/// quick polls and a short lease, so the killed worker's jobs return to the queue soon.
fn worker_config(dir: &Path, app: &TestApp, fake: &FakeProvider) -> PathBuf {
    let redis = app.redis_toml();
    let toml = format!(
        "[database]\nurl = \"{}\"\nacquire_timeout = \"60s\"\n{redis}\
         [jobs]\ncron = []\npoll_interval = \"50ms\"\nlease = \"2s\"\n\
         [jobs.queues]\ndefault = 8\n{}",
        app.db_url,
        fake.toml()
    );
    let path = dir.join("worker.toml");
    std::fs::write(&path, toml).expect("write config");
    path
}

async fn place(app: &TestApp, token: &str, count: usize) -> Vec<String> {
    let orders = (0..count).map(|_| async {
        let resp = app.place_order(token, basket(&[("CRATE", 1)])).await;
        assert_eq!(resp.status(), 202);
        let order: serde_json::Value = resp.json().await.expect("json");
        order["id"].as_str().expect("id").to_string()
    });
    futures_util::future::join_all(orders).await
}

/// Saga steps not finished yet (a refund may still be due after its order settled).
async fn pending_steps(app: &TestApp) -> u64 {
    let done = [JobState::Completed, JobState::Dead, JobState::Cancelled];
    job::Entity::find()
        .filter(job::Column::Kind.eq(OrderStep::NAME))
        .filter(job::Column::State.is_not_in(done))
        .count(app.state.db().write())
        .await
        .expect("count")
}

/// What the provider did for one order, checked against where the order ended.
fn check_provider_calls(order: &order::Model, calls: &[Call]) {
    let id = order.id;
    for call in calls {
        let step = match call.action {
            Action::Charges => "charge",
            Action::Shipments => "ship",
            Action::Refunds => "refund",
            Action::Cancellations => "recall",
        };
        assert_eq!(call.key, format!("{id}:{step}"), "order {id}: {call:?}");
    }
    let effects = |action| {
        calls
            .iter()
            .filter(|c| c.acted && c.action == action)
            .count()
    };
    let (charged, shipped, refunded) = (
        effects(Action::Charges),
        effects(Action::Shipments),
        effects(Action::Refunds),
    );
    let state = format!("order {id} ({})", order.status.as_str());
    assert!(charged <= 1, "{state} charged {charged} times");
    if order.status == OrderStatus::Completed {
        assert_eq!((charged, shipped, refunded), (1, 1, 0), "{state}");
        assert_eq!(order.payment_ref, Some(format!("fake-{id}:charge")));
        assert_eq!(order.shipment_ref, Some(format!("fake-{id}:ship")));
    } else {
        assert_eq!(shipped, 0, "{state} was shipped");
        assert_eq!(
            refunded, charged,
            "{state}: charged {charged}, refunded {refunded}"
        );
    }
}

async fn a_worker_killed_mid_saga_leaves_every_order_settled_and_charged_once(backend: Backend) {
    let fake = FakeProvider::start().await;
    fake.set_mode(SLOW);
    let tweak = |c: &mut levee::config::Config| {
        for_orders(c);
        c.jobs.run_in_serve = false;
        fake.configure(c);
    };
    let Some(app) = TestApp::spawn_with(backend, tweak, None).await else {
        return;
    };
    product(&app, "CRATE", 1500, "EUR", STOCK).await;
    let buyer = app.customer().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = worker_config(dir.path(), &app, &fake);

    let mut first = LeveeProcess::worker(&config);
    let mut ids = place(&app, &buyer.access, BEFORE_KILL).await;
    let past_charge = [
        OrderStatus::Paid,
        OrderStatus::Fulfilled,
        OrderStatus::Completed,
    ];
    let mid_flight = || async {
        let in_flight = fake.calls().iter().any(|c| c.status.is_none());
        in_flight && orders_in(&app, &past_charge).await >= 8
    };
    eventually_within(
        Duration::from_secs(60),
        "orders past their charge, calls in flight",
        mid_flight,
    )
    .await;
    first.signal("KILL");
    let status = first.child.wait().expect("reap");
    assert!(!status.success(), "killed: {status}");
    let killed_at = Instant::now();
    let in_flight: Vec<Call> = fake
        .calls()
        .into_iter()
        .filter(|c| c.status.is_none())
        .collect();
    let completed = orders_in(&app, &[OrderStatus::Completed]).await;
    eprintln!(
        "kill -9 with {} provider calls in flight, {} orders past their charge, {completed} completed",
        in_flight.len(),
        orders_in(&app, &past_charge).await
    );
    assert!(
        completed < BEFORE_KILL as u64,
        "killed before every order completed"
    );

    // While no worker runs: more orders, and shipments start to be declined, so some paid
    // orders fail after the restart and are refunded.
    ids.extend(place(&app, &buyer.access, WHILE_DOWN).await);
    fake.set_mode_of(Action::Shipments, Mode::Declining);
    let _second = LeveeProcess::worker(&config);
    let some_failed = || async { orders_in(&app, &[OrderStatus::Failed]).await >= 3 };
    eventually_within(
        Duration::from_secs(60),
        "declined shipments fail orders",
        some_failed,
    )
    .await;
    fake.set_mode(SLOW);

    let orders = all_settled(&app, Duration::from_secs(120)).await;
    let no_step_left = || async { pending_steps(&app).await == 0 };
    eventually_within(
        Duration::from_secs(30),
        "every refund is made",
        no_step_left,
    )
    .await;
    assert_eq!(orders.len(), ids.len(), "every order placed exists once");
    let known: HashSet<Uuid> = orders.iter().map(|o| o.id).collect();
    let named = |c: &Call| c.order_id.is_some_and(|id| known.contains(&id));
    assert!(
        fake.calls().iter().all(named),
        "every provider call names an order placed here"
    );
    for order in &orders {
        check_provider_calls(order, &fake.calls_for_order(order.id));
    }
    let count = |status| orders.iter().filter(|o| o.status == status).count();
    let (completed, failed) = (count(OrderStatus::Completed), count(OrderStatus::Failed));
    assert_eq!(
        completed + failed,
        ids.len(),
        "only completed and failed orders"
    );
    let retried = fake.calls_per_key().values().filter(|&&n| n > 1).count();
    eprintln!(
        "{completed} completed, {failed} failed; {retried} provider keys called more than once"
    );
    let calls = fake.calls();
    let again = |key: &str| calls.iter().find(|c| c.key == key && c.at > killed_at);
    let recovered: Vec<Duration> = in_flight
        .iter()
        .map(|c| again(&c.key).map(|c| c.at - killed_at))
        .collect::<Option<_>>()
        .expect("every call in flight at the kill was made again with its key");
    eprintln!("calls in flight at the kill made again {recovered:?} after it");
    let sold = completed as i64;
    assert_eq!(
        reconciled_stock(&app, "CRATE").await,
        (STOCK - sold, 0, sold)
    );
}

backend_tests!(a_worker_killed_mid_saga_leaves_every_order_settled_and_charged_once);

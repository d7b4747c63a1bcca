//! The order saga: reserve stock → charge → ship → confirm, each step a durable job
//! (`orders.step`) enqueued in the transaction of the step before it, and compensation
//! in reverse when a step fails (payment declined → release; shipment refused → refund,
//! then release; a shipment created after a cancel won → recalled). Steps are idempotent per order and step: each first checks the order is
//! still in the state the step expects, moves it with a conditional UPDATE, and calls
//! providers with the idempotency key `{order id}:{step}` — so a step re-run after a crash
//! changes nothing twice, and a cancel racing a step is decided by whichever UPDATE lands.

use super::entity::line;
use super::error::OrdersError;
use super::model::{OrderStatus, StockHold};
use super::{compensation, steps, store};
use crate::cache::Cache;
use crate::config::MailConfig;
use crate::inventory::{self, Movement};
use crate::jobs::{Enqueue, JobContext, JobKind, JobQueue, Outcome, Registry};
use crate::products::Sku;
use crate::providers::Providers;
use sea_orm::{ConnectionTrait, Iterable, TransactionTrait};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use uuid::Uuid;

/// One step of one order's saga.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderStep {
    pub order_id: Uuid,
    pub step: Step,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sea_orm::EnumIter)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Reserve,
    Charge,
    Ship,
    Confirm,
    /// Compensation: give the money back, then the stock.
    Refund,
    /// Compensation: cancel a shipment created while the order was being cancelled.
    Recall,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Reserve => "reserve",
            Step::Charge => "charge",
            Step::Ship => "ship",
            Step::Confirm => "confirm",
            Step::Refund => "refund",
            Step::Recall => "recall",
        }
    }
}

impl JobKind for OrderStep {
    const NAME: &'static str = "orders.step";
    /// Database errors are retried; an unavailable provider snoozes the step (no attempt
    /// used) until the order's deadline.
    const MAX_ATTEMPTS: i32 = 10;
}

/// Enqueues `step` of order `order_id` in `conn`, the transaction of the step before it.
pub async fn enqueue<C: ConnectionTrait + TransactionTrait>(
    jobs: &JobQueue,
    conn: &C,
    order_id: Uuid,
    step: Step,
) -> Result<(), OrdersError> {
    jobs.enqueue(conn, &OrderStep { order_id, step }, Enqueue::default())
        .await?;
    Ok(())
}

/// What the steps need besides the database: the queue for the next step, the cache whose
/// `available` figures stock moves change, the providers and the mail settings.
#[derive(Clone)]
pub struct Saga {
    pub jobs: JobQueue,
    pub cache: Cache,
    pub providers: Providers,
    pub mail: MailConfig,
}

/// Registers the `orders.step` handler.
pub fn register_jobs(registry: &mut Registry, saga: Saga) {
    registry.register::<OrderStep, _, _>(move |job, ctx| {
        let saga = saga.clone();
        async move { saga.run(job, ctx).await }
    });
}

impl Saga {
    #[tracing::instrument(skip_all, fields(order.id = %job.order_id, saga.step = job.step.as_str()))]
    async fn run(&self, job: OrderStep, ctx: JobContext) -> Outcome {
        let started = Instant::now();
        let db = &ctx.db;
        let result = match job.step {
            Step::Reserve => steps::reserve(self, db, job.order_id).await,
            Step::Charge => steps::charge(self, db, job.order_id).await,
            Step::Ship => steps::ship(self, db, job.order_id).await,
            Step::Confirm => steps::confirm(self, db, job.order_id).await,
            Step::Refund => compensation::refund(self, db, job.order_id).await,
            Step::Recall => compensation::recall(self, db, job.order_id).await,
        };
        step_duration(job.step).record(started.elapsed().as_secs_f64());
        result.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "order step failed; it will be retried");
            Outcome::Retry(e.to_string())
        })
    }
}

/// Drops the cached `available` of the products at `skus` after their stock moved.
pub async fn invalidate(cache: &Cache, skus: &[Sku]) {
    let skus: Vec<&Sku> = skus.iter().collect();
    crate::products::service::invalidate_in(cache, &skus).await;
}

/// Counts an order reaching `status` (after its transaction committed).
pub fn counted(status: OrderStatus) {
    orders_total(status).increment(1);
}

fn orders_total(status: OrderStatus) -> metrics::Counter {
    metrics::counter!("levee_orders_total", "status" => status.as_str())
}

fn step_duration(step: Step) -> metrics::Histogram {
    metrics::histogram!("levee_saga_step_duration_seconds", "step" => step.as_str())
}

/// Creates the orders' series at zero, every status and step, so dashboards and alerts
/// see them before the first order (a histogram renders its buckets once registered).
pub fn register_series() {
    for status in OrderStatus::iter() {
        orders_total(status).increment(0);
    }
    for step in Step::iter() {
        let _registered = step_duration(step);
    }
}

/// How a stock movement of an order is recorded in the ledger.
fn movement(order_id: Uuid, reason: &str) -> Movement {
    Movement::new(reason, "system").for_reference(format!("order:{order_id}"))
}

/// Lines in product order, so two orders moving the same products lock them in the same
/// order and cannot deadlock.
async fn sorted_lines(
    conn: &impl ConnectionTrait,
    order_id: Uuid,
) -> Result<Vec<line::Model>, OrdersError> {
    let mut lines = store::lines_of(conn, vec![order_id]).await?;
    lines.sort_by_key(|l| l.product_id);
    Ok(lines)
}

/// Moves the order's stock from reserved to `to` (released or committed) — once: a second
/// call finds it moved and does nothing. Returns the SKUs whose stock moved.
pub async fn settle_stock(
    conn: &impl ConnectionTrait,
    order_id: Uuid,
    to: StockHold,
) -> Result<Vec<Sku>, OrdersError> {
    if !store::move_stock(conn, order_id, StockHold::Reserved, to).await? {
        return Ok(Vec::new());
    }
    let lines = sorted_lines(conn, order_id).await?;
    for l in &lines {
        if to == StockHold::Committed {
            inventory::commit(
                conn,
                l.product_id,
                l.quantity,
                movement(order_id, "order sold"),
            )
            .await?;
        } else {
            let why = movement(order_id, "order released");
            inventory::release(conn, l.product_id, l.quantity, why).await?;
        }
    }
    Ok(lines.into_iter().map(|l| l.sku).collect())
}

/// Reserves every line of the order, or none: on the first line that cannot be reserved
/// it returns that SKU and the caller rolls the transaction back.
pub async fn reserve_all(
    conn: &impl ConnectionTrait,
    order_id: Uuid,
) -> Result<Result<Vec<Sku>, Sku>, OrdersError> {
    let lines = sorted_lines(conn, order_id).await?;
    for l in &lines {
        let why = movement(order_id, "order reserved");
        match inventory::reserve(conn, l.product_id, l.quantity, why).await {
            Ok(_) => {}
            Err(inventory::StockError::Insufficient { .. }) => return Ok(Err(l.sku.clone())),
            Err(e) => return Err(e.into()),
        }
    }
    store::move_stock(conn, order_id, StockHold::None, StockHold::Reserved).await?;
    Ok(Ok(lines.into_iter().map(|l| l.sku).collect()))
}

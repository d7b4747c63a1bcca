//! The saga's forward steps, one function each (see `saga` for the protocol; compensations
//! in `compensation`). A step returns what the job queue should do next; database errors
//! bubble up and are retried.
//!
//! A step's transaction commits relaxed (`Changes::step`): it holds the hot product's
//! stock row, and waiting for the WAL flush while holding it made reservations of a flash
//! sale queue behind each other's flushes. Before money moves everything is durable
//! anyway: the flushed `charge_requested` write flushes every earlier commit with it.

use super::compensation::give_up_or_wait;
use super::error::OrdersError;
use super::model::{Address, OrderStatus, StockHold};
use super::saga::{Saga, Step, counted, enqueue, invalidate, reserve_all, settle_stock};
use super::store::{self, Changes};
use crate::db::Db;
use crate::jobs::Outcome;
use crate::providers::Call;
use chrono::Utc;
use uuid::Uuid;

pub type StepResult = Result<Outcome, OrdersError>;

/// The order, if it is still in `expected`; otherwise the step has nothing left to do.
pub async fn still(
    db: &Db,
    id: Uuid,
    expected: &[OrderStatus],
) -> Result<Option<super::entity::order::Model>, OrdersError> {
    Ok(store::find(db.write(), id)
        .await?
        .filter(|o| expected.contains(&o.status)))
}

pub fn call(order: &super::entity::order::Model, step: Step) -> Call {
    Call {
        key: format!("{}:{}", order.id, step.as_str()),
        reference: match step {
            Step::Refund => order.payment_ref.clone(),
            Step::Recall => order.shipment_ref.clone(),
            _ => None,
        },
        order_id: order.id,
        amount: order.total_amount,
        currency: order.currency.to_string(),
        address: (step == Step::Ship)
            .then(|| serde_json::from_str::<Address>(&order.shipping_address).ok())
            .flatten()
            .and_then(|a| serde_json::to_value(a).ok()),
    }
}

/// Pending → reserved, every line or none; rejected when stock runs out.
pub async fn reserve(saga: &Saga, db: &Db, id: Uuid) -> StepResult {
    let txn = db.begin_write().await?;
    // The state moves first: a cancel that lands before this UPDATE wins, and one that
    // comes after finds the order reserved and releases its stock.
    let moved = store::transition(
        &txn,
        id,
        OrderStatus::Pending,
        OrderStatus::Reserved,
        Changes::step(),
    );
    if !moved.await? {
        return Ok(Outcome::Done);
    }
    match reserve_all(&txn, id).await? {
        Ok(skus) => {
            enqueue(&saga.jobs, &txn, id, Step::Charge).await?;
            txn.commit().await?;
            counted(OrderStatus::Reserved);
            invalidate(&saga.cache, &skus).await;
        }
        Err(sku) => {
            txn.rollback().await?;
            let txn = db.begin_write().await?;
            let reason = Changes {
                reason: Some(format!("out of stock: {sku}")),
                ..Changes::step()
            };
            let rejected = store::transition(
                &txn,
                id,
                OrderStatus::Pending,
                OrderStatus::Rejected,
                reason,
            )
            .await?;
            txn.commit().await?;
            if rejected {
                counted(OrderStatus::Rejected);
            }
        }
    }
    Ok(Outcome::Done)
}

/// Reserved → paid; a declined payment fails the order and releases its stock.
pub async fn charge(saga: &Saga, db: &Db, id: Uuid) -> StepResult {
    let Some(mut order) = still(db, id, &[OrderStatus::Reserved]).await? else {
        return Ok(Outcome::Done);
    };
    if let Some(open) = saga.providers.payment_deferred() {
        return give_up_or_wait(saga, db, &order, open).await;
    }
    // Noted before the call: from here on an order that ends unpaid is refunded, since the
    // answer can be lost after the money was taken.
    if !store::charge_requested(db.write(), id).await? {
        return Ok(Outcome::Done);
    }
    order.charge_requested_at.get_or_insert_with(Utc::now);
    let charged = saga
        .providers
        .payment
        .charge(&call(&order, Step::Charge))
        .await;
    let receipt = match charged {
        Ok(receipt) => receipt,
        Err(e) => return give_up_or_wait(saga, db, &order, e).await,
    };
    let txn = db.begin_write().await?;
    let paid = Changes {
        payment_ref: Some(receipt.reference),
        ..Changes::step()
    };
    // Cancelled while the charge was under way: the cancel saw the charge asked for and
    // enqueued the refund itself.
    if !store::transition(&txn, id, OrderStatus::Reserved, OrderStatus::Paid, paid).await? {
        return Ok(Outcome::Done);
    }
    enqueue(&saga.jobs, &txn, id, Step::Ship).await?;
    txn.commit().await?;
    counted(OrderStatus::Paid);
    Ok(Outcome::Done)
}

/// Paid → fulfilled, the stock sold; a refused shipment fails the order and refunds it.
pub async fn ship(saga: &Saga, db: &Db, id: Uuid) -> StepResult {
    let Some(order) = still(db, id, &[OrderStatus::Paid]).await? else {
        return Ok(Outcome::Done);
    };
    let shipped = saga
        .providers
        .shipping
        .create_shipment(&call(&order, Step::Ship))
        .await;
    let receipt = match shipped {
        Ok(receipt) => receipt,
        Err(e) => return give_up_or_wait(saga, db, &order, e).await,
    };
    let txn = db.begin_write().await?;
    let fulfilled = Changes {
        shipment_ref: Some(receipt.reference.clone()),
        ..Changes::step()
    };
    let (from, to) = (OrderStatus::Paid, OrderStatus::Fulfilled);
    if !store::transition(&txn, id, from, to, fulfilled).await? {
        // A cancel won while the shipment was being created: the cancel refunds the order,
        // and the shipment is recalled.
        txn.rollback().await?;
        let txn = db.begin_write().await?;
        store::keep_shipment(&txn, id, receipt.reference).await?;
        enqueue(&saga.jobs, &txn, id, Step::Recall).await?;
        txn.commit().await?;
        return Ok(Outcome::Done);
    }
    let skus = settle_stock(&txn, id, StockHold::Committed).await?;
    enqueue(&saga.jobs, &txn, id, Step::Confirm).await?;
    txn.commit().await?;
    counted(OrderStatus::Fulfilled);
    invalidate(&saga.cache, &skus).await;
    Ok(Outcome::Done)
}

/// Fulfilled → completed, with the confirmation email enqueued. The email is not critical:
/// one that cannot be rendered is logged and the order completes anyway.
pub async fn confirm(saga: &Saga, db: &Db, id: Uuid) -> StepResult {
    let Some(order) = still(db, id, &[OrderStatus::Fulfilled]).await? else {
        return Ok(Outcome::Done);
    };
    let txn = db.begin_write().await?;
    let (from, to) = (OrderStatus::Fulfilled, OrderStatus::Completed);
    if !store::transition(&txn, id, from, to, Changes::step()).await? {
        return Ok(Outcome::Done);
    }
    if let Some(user) = crate::users::find(&txn, order.user_id).await? {
        // The catalog keeps prices in cents; the email shows them as decimals.
        let total = format!(
            "{}.{:02} {}",
            order.total_amount / 100,
            order.total_amount % 100,
            order.currency
        );
        match crate::mail::order_confirmation(&saga.mail, &user, order.id, &total) {
            Ok(email) => {
                let options = crate::jobs::Enqueue::default();
                saga.jobs.enqueue(&txn, &email, options).await?;
            }
            Err(e) => tracing::warn!(error = %e, "the order confirmation cannot be rendered"),
        }
    }
    txn.commit().await?;
    counted(OrderStatus::Completed);
    Ok(Outcome::Done)
}

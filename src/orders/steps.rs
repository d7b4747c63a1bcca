//! The saga's steps, one function each (see `saga` for the protocol). A step returns what
//! the job queue should do next; database errors bubble up and are retried.

use super::error::OrdersError;
use super::model::{Address, OrderStatus, StockHold};
use super::saga::{Saga, Step, counted, enqueue, invalidate, reserve_all, settle_stock};
use super::store::{self, Changes};
use crate::db::Db;
use crate::jobs::Outcome;
use crate::providers::{Call, ProviderError};
use chrono::Utc;
use std::time::Duration;
use uuid::Uuid;

/// How long a step waits before asking an unavailable provider again.
const PROVIDER_RETRY: Duration = Duration::from_secs(2);

type StepResult = Result<Outcome, OrdersError>;

/// The order, if it is still in `expected`; otherwise the step has nothing left to do.
async fn still(
    db: &Db,
    id: Uuid,
    expected: &[OrderStatus],
) -> Result<Option<super::entity::order::Model>, OrdersError> {
    Ok(store::find(db.write(), id)
        .await?
        .filter(|o| expected.contains(&o.status)))
}

fn call(order: &super::entity::order::Model, step: Step) -> Call {
    Call {
        key: format!("{}:{}", order.id, step.as_str()),
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
        Changes::default(),
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
                ..Changes::default()
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
    let Some(order) = still(db, id, &[OrderStatus::Reserved]).await? else {
        return Ok(Outcome::Done);
    };
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
        ..Changes::default()
    };
    let moved = store::transition(&txn, id, OrderStatus::Reserved, OrderStatus::Paid, paid).await?;
    // Cancelled while the charge was under way: the cancel released the stock, and the
    // money goes back.
    let next = if moved { Step::Ship } else { Step::Refund };
    enqueue(&saga.jobs, &txn, id, next).await?;
    txn.commit().await?;
    if moved {
        counted(OrderStatus::Paid);
    }
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
        shipment_ref: Some(receipt.reference),
        ..Changes::default()
    };
    let (from, to) = (OrderStatus::Paid, OrderStatus::Fulfilled);
    if !store::transition(&txn, id, from, to, fulfilled).await? {
        // A cancel won while the shipment was being created; it refunds the order.
        tracing::warn!("a shipment was created for an order cancelled meanwhile");
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
    if !store::transition(&txn, id, from, to, Changes::default()).await? {
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

/// Compensation for a paid order that failed or was cancelled: refund, then release.
pub async fn refund(saga: &Saga, db: &Db, id: Uuid) -> StepResult {
    let ended = [OrderStatus::Failed, OrderStatus::Cancelled];
    let Some(order) = still(db, id, &ended).await? else {
        return Ok(Outcome::Done);
    };
    match saga
        .providers
        .payment
        .refund(&call(&order, Step::Refund))
        .await
    {
        Ok(receipt) => {
            let txn = db.begin_write().await?;
            let skus = settle_stock(&txn, id, StockHold::Released).await?;
            store::note(
                &txn,
                id,
                order.status,
                format!("refunded: {}", receipt.reference),
            )
            .await?;
            txn.commit().await?;
            invalidate(&saga.cache, &skus).await;
            Ok(Outcome::Done)
        }
        // A compensation has no deadline: it waits for the provider.
        Err(ProviderError::Unavailable(e)) => {
            tracing::warn!(error = %e, "refund provider unavailable; retrying");
            Ok(Outcome::Snooze(PROVIDER_RETRY))
        }
        Err(e @ ProviderError::Declined(_)) => Ok(Outcome::Fail(e.to_string())),
    }
}

/// A provider call of a forward step failed: wait for an unavailable provider until the
/// order's deadline, otherwise fail the order and compensate.
async fn give_up_or_wait(
    saga: &Saga,
    db: &Db,
    order: &super::entity::order::Model,
    error: ProviderError,
) -> StepResult {
    if matches!(error, ProviderError::Unavailable(_)) && Utc::now() < order.deadline_at {
        tracing::warn!(error = %error, "provider unavailable; the step will run again");
        return Ok(Outcome::Snooze(PROVIDER_RETRY));
    }
    let txn = db.begin_write().await?;
    let failed = Changes {
        reason: Some(error.to_string()),
        ..Changes::default()
    };
    if !store::transition(&txn, order.id, order.status, OrderStatus::Failed, failed).await? {
        return Ok(Outcome::Done);
    }
    // Before payment only stock is held; after it the money goes back first.
    let skus = if order.status == OrderStatus::Paid {
        enqueue(&saga.jobs, &txn, order.id, Step::Refund).await?;
        Vec::new()
    } else {
        settle_stock(&txn, order.id, StockHold::Released).await?
    };
    txn.commit().await?;
    counted(OrderStatus::Failed);
    invalidate(&saga.cache, &skus).await;
    Ok(Outcome::Done)
}

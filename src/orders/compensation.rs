//! The saga's compensations and its handling of provider errors: refund (then release),
//! recall a shipment, and give up on an order — or wait for a provider that is unavailable
//! or whose breaker is open — until its deadline.

use super::model::{OrderStatus, StockHold};
use super::saga::{Saga, Step, counted, enqueue, invalidate, settle_stock};
use super::steps::{StepResult, call, still};
use super::store::{self, Changes};
use crate::db::Db;
use crate::jobs::Outcome;
use crate::providers::ProviderError;
use chrono::Utc;
use std::time::Duration;
use uuid::Uuid;

/// How long a step waits before asking an unavailable provider again.
const PROVIDER_RETRY: Duration = Duration::from_secs(2);

/// Compensation for a paid order that failed or was cancelled: refund, then release (for
/// an order whose charge was asked for and its answer lost, the stock is already back). A refund the provider declines
/// still releases the stock, and leaves the money to an operator (the job fails, visible in
/// the console's dead jobs).
pub async fn refund(saga: &Saga, db: &Db, id: Uuid) -> StepResult {
    let ended = [OrderStatus::Failed, OrderStatus::Cancelled];
    let Some(order) = still(db, id, &ended).await? else {
        return Ok(Outcome::Done);
    };
    let refunded = saga
        .providers
        .payment
        .refund(&call(&order, Step::Refund))
        .await;
    let detail = match &refunded {
        Ok(receipt) => format!("refunded: {}", receipt.reference),
        // A compensation has no deadline: it waits for the provider.
        Err(e) => match retry_delay(e) {
            Some(delay) => {
                tracing::warn!(error = %e, "refund provider unavailable; retrying");
                return Ok(Outcome::Snooze(delay));
            }
            None => format!("refund declined, left to an operator: {e}"),
        },
    };
    let txn = db.begin_write().await?;
    let skus = settle_stock(&txn, id, StockHold::Released).await?;
    store::note(&txn, id, order.status, detail).await?;
    txn.commit().await?;
    invalidate(&saga.cache, &skus).await;
    Ok(refunded.map_or_else(|e| Outcome::Fail(e.to_string()), |_| Outcome::Done))
}

/// Compensation for a shipment created after the order was cancelled: cancel it with the
/// shipping provider. A refused recall is left to an operator (the job fails, visible in
/// the console's dead jobs).
pub async fn recall(saga: &Saga, db: &Db, id: Uuid) -> StepResult {
    let ended = [OrderStatus::Failed, OrderStatus::Cancelled];
    let Some(order) = still(db, id, &ended).await? else {
        return Ok(Outcome::Done);
    };
    let recall = call(&order, Step::Recall);
    match saga.providers.shipping.cancel_shipment(&recall).await {
        Ok(receipt) => {
            let txn = db.begin_write().await?;
            let detail = format!("shipment recalled: {}", receipt.reference);
            store::note(&txn, id, order.status, detail).await?;
            txn.commit().await?;
            Ok(Outcome::Done)
        }
        Err(e) => Ok(retry_delay(&e).map_or(Outcome::Fail(e.to_string()), Outcome::Snooze)),
    }
}

fn is_declined(error: &ProviderError) -> bool {
    matches!(error, ProviderError::Declined(_))
}

/// When to ask again after `error`, or `None` when asking again is pointless (declined).
/// A little jitter spreads the steps a breaker turned away over time, so they do not all
/// come back in the same instant when it half-opens.
fn retry_delay(error: &ProviderError) -> Option<Duration> {
    let delay = match error {
        ProviderError::Declined(_) => return None,
        ProviderError::Unavailable(_) => PROVIDER_RETRY,
        ProviderError::Deferred { retry_after, .. } => *retry_after,
    };
    let jitter_ms = getrandom::u64().unwrap_or(0) % (delay.as_millis() as u64 / 5 + 1);
    Some(delay + Duration::from_millis(jitter_ms))
}

/// A provider call of a forward step failed: wait for an unavailable provider (or one
/// whose breaker is open) until the order's deadline, otherwise fail the order and
/// compensate.
pub async fn give_up_or_wait(
    saga: &Saga,
    db: &Db,
    order: &super::entity::order::Model,
    error: ProviderError,
) -> StepResult {
    let left = (order.deadline_at - Utc::now())
        .to_std()
        .unwrap_or_default();
    if let Some(delay) = retry_delay(&error).filter(|_| !left.is_zero()) {
        tracing::warn!(error = %error, "provider unavailable; the step will run again");
        // Not past the deadline: the step runs at the deadline at the latest.
        return Ok(Outcome::Snooze(delay.min(left)));
    }
    let txn = db.begin_write().await?;
    let failed = Changes {
        reason: Some(error.to_string()),
        ..Changes::default()
    };
    if !store::transition(&txn, order.id, order.status, OrderStatus::Failed, failed).await? {
        return Ok(Outcome::Done);
    }
    // A paid order gets its money back first, then its stock. Before payment the stock
    // goes back at once — and if a charge was asked for and its answer lost (a decline is
    // an answer: nothing taken), a refund follows in case it was taken.
    let answer_lost = order.charge_requested_at.is_some() && !is_declined(&error);
    if order.status == OrderStatus::Paid || answer_lost {
        enqueue(&saga.jobs, &txn, order.id, Step::Refund).await?;
    }
    let skus = if order.status == OrderStatus::Paid {
        Vec::new()
    } else {
        settle_stock(&txn, order.id, StockHold::Released).await?
    };
    txn.commit().await?;
    counted(OrderStatus::Failed);
    invalidate(&saga.cache, &skus).await;
    Ok(Outcome::Done)
}

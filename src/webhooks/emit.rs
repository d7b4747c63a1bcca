//! Emitting an event: called by the features in the transaction of the change that causes
//! it, so the event and its deliveries commit or vanish with that change. With no endpoint
//! subscribed it costs one indexed query (orders emit on the flash-sale hot path).

use super::model::EventType;
use super::{deliveries, store};
use crate::jobs::{Enqueue, JobKind, JobQueue};
use sea_orm::{ConnectionTrait, DbErr, TransactionTrait};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The `webhook.deliver` job: one attempt at one delivery per run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deliver {
    pub delivery_id: Uuid,
}

impl JobKind for Deliver {
    const NAME: &'static str = "webhook.deliver";
    /// The handler ends it (dead) once `webhooks.retry_schedule` (at most 50 waits) is
    /// used up; this only bounds a job that keeps crashing its worker.
    const MAX_ATTEMPTS: i32 = 60;
}

/// Emits `event_type` with `data` to every enabled endpoint subscribed to it, enqueueing a
/// `webhook.deliver` job per endpoint on `conn` — pass the change's transaction. Returns
/// the event's id when any endpoint was subscribed.
pub async fn emit<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    event_type: EventType,
    data: serde_json::Value,
) -> Result<Option<Uuid>, DbErr> {
    let subscribed = store::subscribers(conn, event_type.as_str()).await?;
    if subscribed.is_empty() {
        return Ok(None);
    }
    let event = deliveries::insert_event(conn, event_type.as_str(), &data).await?;
    for endpoint in subscribed {
        let delivery = deliveries::insert_delivery(conn, event.id, endpoint).await?;
        enqueue(conn, delivery.id).await?;
    }
    Ok(Some(event.id))
}

/// Enqueues an attempt at `delivery_id`. Workers find it within `jobs.poll_interval`
/// (callers such as the order store hold no queue to wake them with).
pub async fn enqueue<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    delivery_id: Uuid,
) -> Result<(), DbErr> {
    JobQueue::default()
        .enqueue(conn, &Deliver { delivery_id }, Enqueue::default())
        .await
        .map(|_| ())
}

//! The response bodies of attempts, pings and deliveries.

use crate::rest::examples::example_time;
use crate::webhooks::entity::{attempt, delivery, event};
use crate::webhooks::{AttemptOutcome, DeliveryStatus};
use chrono::{DateTime, Utc};
use poem_openapi::Object;
use poem_openapi::types::Example;
use uuid::Uuid;

/// One attempt at one delivery.
#[derive(Object)]
#[oai(example)]
pub struct WebhookAttempt {
    pub id: Uuid,
    pub delivery_id: Uuid,
    /// The payload's `id`: the same on every attempt of a delivery.
    pub event_id: Uuid,
    pub event_type: String,
    pub outcome: AttemptOutcome,
    /// The status the endpoint answered with, if it answered.
    #[oai(nullable)]
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    #[oai(nullable)]
    pub error: Option<String>,
    /// Where the delivery stands after this attempt and any later one.
    pub delivery_status: DeliveryStatus,
    pub created_at: DateTime<Utc>,
}

impl Example for WebhookAttempt {
    fn example() -> Self {
        Self {
            id: Uuid::nil(),
            delivery_id: Uuid::nil(),
            event_id: Uuid::nil(),
            event_type: "order.confirmed".into(),
            outcome: AttemptOutcome::Delivered,
            status_code: Some(200),
            latency_ms: 42,
            error: None,
            delivery_status: DeliveryStatus::Delivered,
            created_at: example_time(),
        }
    }
}

impl From<(attempt::Model, delivery::Model, event::Model)> for WebhookAttempt {
    fn from((a, d, e): (attempt::Model, delivery::Model, event::Model)) -> Self {
        Self {
            id: a.id,
            delivery_id: d.id,
            event_id: e.id,
            event_type: e.event_type,
            outcome: a.outcome,
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            error: a.error,
            delivery_status: d.status,
            created_at: a.created_at,
        }
    }
}

/// The endpoint's latest attempts, newest first.
#[derive(Object)]
#[oai(example)]
pub struct WebhookAttemptList {
    pub items: Vec<WebhookAttempt>,
}

impl Example for WebhookAttemptList {
    fn example() -> Self {
        Self {
            items: vec![WebhookAttempt::example()],
        }
    }
}

/// How the `ping` went.
#[derive(Object)]
#[oai(example)]
pub struct WebhookPingResult {
    /// The ping event's id.
    pub event_id: Uuid,
    pub outcome: AttemptOutcome,
    #[oai(nullable)]
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    #[oai(nullable)]
    pub error: Option<String>,
}

impl Example for WebhookPingResult {
    fn example() -> Self {
        Self {
            event_id: Uuid::nil(),
            outcome: AttemptOutcome::Delivered,
            status_code: Some(204),
            latency_ms: 42,
            error: None,
        }
    }
}

/// A delivery: one event to one endpoint.
#[derive(Object)]
#[oai(example)]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub event_id: Uuid,
    pub endpoint_id: Uuid,
    pub status: DeliveryStatus,
    pub attempts: i32,
    #[oai(nullable)]
    pub last_status_code: Option<i32>,
    #[oai(nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Example for WebhookDelivery {
    fn example() -> Self {
        Self {
            id: Uuid::nil(),
            event_id: Uuid::nil(),
            endpoint_id: Uuid::nil(),
            status: DeliveryStatus::Pending,
            attempts: 3,
            last_status_code: Some(500),
            last_error: Some("answered 500 Internal Server Error".into()),
            created_at: example_time(),
        }
    }
}

impl From<delivery::Model> for WebhookDelivery {
    fn from(d: delivery::Model) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            endpoint_id: d.endpoint_id,
            status: d.status,
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at,
        }
    }
}

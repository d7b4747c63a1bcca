//! The request and response bodies of the webhook endpoints.

use crate::rest::examples::example_time;
use crate::webhooks::entity::endpoint;
use chrono::{DateTime, Utc};
use poem_openapi::Object;
use poem_openapi::types::Example;
use uuid::Uuid;

const EXAMPLE_URL: &str = "https://hooks.example.com/levee";

fn example_types() -> Vec<String> {
    vec!["order.confirmed".into(), "order.cancelled".into()]
}

#[derive(Object)]
#[oai(example)]
pub struct CreateWebhookEndpointRequest {
    /// Where events are POSTed: an absolute http(s) URL, at most 2048 characters, without
    /// user name or password.
    #[oai(deserialize_with = "crate::rest::body::text")]
    pub url: String,
    /// Event types to receive: `post.published`, `product.updated`, `order.confirmed`,
    /// `order.completed`, `order.failed`, `order.cancelled` (at least one).
    pub event_types: Vec<String>,
    /// What the endpoint is for, at most 500 characters.
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub description: Option<String>,
}

impl Example for CreateWebhookEndpointRequest {
    fn example() -> Self {
        Self {
            url: EXAMPLE_URL.into(),
            event_types: example_types(),
            description: Some("fulfilment system".into()),
        }
    }
}

/// Fields to change; absent ones stay. `enabled: false` disables the endpoint; enabling it
/// again clears its failure record.
#[derive(Object)]
#[oai(example)]
pub struct UpdateWebhookEndpointRequest {
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub url: Option<String>,
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub event_types: Option<Vec<String>>,
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub description: Option<String>,
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub enabled: Option<bool>,
}

impl Example for UpdateWebhookEndpointRequest {
    fn example() -> Self {
        Self {
            url: None,
            event_types: None,
            description: None,
            enabled: Some(false),
        }
    }
}

/// A webhook endpoint; its secret is shown only when created or rotated.
#[derive(Object)]
#[oai(example)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why it is disabled.
    #[oai(nullable)]
    pub disabled_reason: Option<String>,
    /// Since when every delivery has failed.
    #[oai(nullable)]
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation still signs too.
    #[oai(nullable)]
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Example for WebhookEndpoint {
    fn example() -> Self {
        Self {
            id: Uuid::nil(),
            url: EXAMPLE_URL.into(),
            description: "fulfilment system".into(),
            event_types: example_types(),
            enabled: true,
            disabled_reason: None,
            failing_since: None,
            previous_secret_until: None,
            created_at: example_time(),
            updated_at: example_time(),
        }
    }
}

impl From<endpoint::Model> for WebhookEndpoint {
    fn from(m: endpoint::Model) -> Self {
        Self {
            event_types: crate::webhooks::store::event_types_of(&m),
            id: m.id,
            url: m.url,
            description: m.description,
            enabled: m.enabled,
            disabled_reason: m.disabled_reason,
            failing_since: m.failing_since,
            previous_secret_until: m.previous_secret_until,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// An endpoint with its signing secret — shown this once.
#[derive(Object)]
#[oai(example)]
pub struct WebhookEndpointWithSecret {
    #[oai(flatten)]
    pub endpoint: WebhookEndpoint,
    /// Verify `Levee-Signature` with it (README: Webhooks). Store it now.
    pub secret: String,
}

impl Example for WebhookEndpointWithSecret {
    fn example() -> Self {
        Self {
            endpoint: WebhookEndpoint::example(),
            secret: "whsec_q9Xr2v7LmN0pK4sT8wYz1bC6dF3gH5jQAb12Cd34Ef5".into(),
        }
    }
}

impl From<endpoint::Model> for WebhookEndpointWithSecret {
    fn from(m: endpoint::Model) -> Self {
        let secret = m.secret.clone();
        Self {
            endpoint: m.into(),
            secret,
        }
    }
}

/// Every registered endpoint, oldest first (at most `webhooks.max_endpoints`).
#[derive(Object)]
#[oai(example)]
pub struct WebhookEndpointList {
    pub items: Vec<WebhookEndpoint>,
}

impl Example for WebhookEndpointList {
    fn example() -> Self {
        Self {
            items: vec![WebhookEndpoint::example()],
        }
    }
}

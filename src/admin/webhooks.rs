//! The webhooks page: every endpoint with its health, and the latest deliveries with
//! their state and a resend button. The reads and the resend are the webhooks service's,
//! the same the API's `/webhook-endpoints` operations use.

use super::csrf;
use super::pages::Chrome;
use super::service::Staff;
use super::users::shown_time;
use crate::webhooks::entity::{delivery, endpoint, event};
use askama::Template;

/// Deliveries the page lists.
pub const RECENT: u64 = 50;

/// What a `?notice=` code after a change says; only fixed messages are shown.
pub fn notice(code: &str) -> Option<&'static str> {
    match code {
        "resent" => Some("The delivery was queued again."),
        _ => None,
    }
}

/// One endpoint as the page shows it (never its secret).
pub struct EndpointRow {
    pub id: String,
    pub url: String,
    pub description: String,
    pub event_types: String,
    pub state: String,
    pub failing_since: String,
}

impl From<endpoint::Model> for EndpointRow {
    fn from(e: endpoint::Model) -> Self {
        let types: Vec<String> = serde_json::from_str(&e.event_types).unwrap_or_default();
        Self {
            id: e.id.to_string(),
            state: match (&e.enabled, &e.disabled_reason) {
                (true, _) => "enabled".into(),
                (false, Some(reason)) => format!("disabled: {reason}"),
                (false, None) => "disabled".into(),
            },
            failing_since: e.failing_since.map(shown_time).unwrap_or_default(),
            event_types: types.join(", "),
            url: e.url,
            description: e.description,
        }
    }
}

/// One delivery as the page shows it.
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: &'static str,
    pub attempts: i32,
    pub last_code: String,
    pub last_error: String,
    pub created_at: String,
}

impl From<(delivery::Model, event::Model)> for DeliveryRow {
    fn from((d, e): (delivery::Model, event::Model)) -> Self {
        Self {
            id: d.id.to_string(),
            endpoint_id: d.endpoint_id.to_string(),
            event_id: e.id.to_string(),
            event_type: e.event_type,
            status: d.status.as_str(),
            attempts: d.attempts,
            last_code: d
                .last_status_code
                .map(|c| c.to_string())
                .unwrap_or_default(),
            last_error: d.last_error.unwrap_or_default(),
            created_at: shown_time(d.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/webhooks.html")]
pub struct WebhooksPage {
    pub chrome: Chrome,
    pub notice: Option<&'static str>,
    pub csrf_token: String,
    pub endpoints: Vec<EndpointRow>,
    pub deliveries: Vec<DeliveryRow>,
}

impl WebhooksPage {
    pub fn new(
        nonce: &str,
        staff: &Staff,
        endpoints: Vec<endpoint::Model>,
        deliveries: Vec<(delivery::Model, event::Model)>,
        notice: Option<&'static str>,
    ) -> Self {
        Self {
            chrome: Chrome::new(nonce, Some(staff)),
            notice,
            csrf_token: csrf::token(&staff.session),
            endpoints: endpoints.into_iter().map(EndpointRow::from).collect(),
            deliveries: deliveries.into_iter().map(DeliveryRow::from).collect(),
        }
    }
}

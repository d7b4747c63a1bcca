//! What the webhook endpoints ask for: registering and editing endpoints (validated
//! against the SSRF guard's static rules), rotating secrets, the synchronous `ping`,
//! recent attempts and resends. Everything runs on the primary: admins expect to see
//! their own writes.

use super::client::{Answer, check};
use super::deliver::{Deliverer, load};
use super::deliveries;
use super::entity::{attempt, delivery, endpoint, event};
use super::error::WebhooksError;
use super::model::{self, DeliveryStatus, EventType, MAX_DESCRIPTION};
use super::store::{self, EndpointChanges, NewEndpoint};
use crate::error::FieldError;
use crate::state::AppState;
use chrono::Utc;
use uuid::Uuid;

/// Checks an endpoint's fields; `None` ones are not being set.
fn validate(
    state: &AppState,
    url: Option<&str>,
    description: Option<&str>,
    event_types: Option<&[String]>,
) -> Result<(), WebhooksError> {
    let config = &state.config().webhooks;
    let mut errors = Vec::new();
    if let Some(url) = url {
        let problem = model::url_problem(url).map(str::to_string).or_else(|| {
            let parsed = url::Url::parse(url).ok()?;
            check(&config.allowed_hosts, config.allow_private, &parsed)
                .err()
                .map(|refused| refused.to_string())
        });
        if let Some(problem) = problem {
            errors.push(FieldError::at("/url", problem));
        }
    }
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION) {
        errors.push(FieldError::at(
            "/description",
            "must be at most 500 characters",
        ));
    }
    if let Some(types) = event_types {
        if types.is_empty() {
            errors.push(FieldError::at(
                "/event_types",
                "must name at least one event type",
            ));
        }
        let known: Vec<&str> = EventType::SUBSCRIBABLE.iter().map(|t| t.as_str()).collect();
        for (i, name) in types.iter().enumerate() {
            if EventType::parse(name).is_none() {
                errors.push(FieldError::at(
                    format!("/event_types/{i}"),
                    format!("unknown event type; known types: {}", known.join(", ")),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(WebhooksError::Fields(errors))
    }
}

/// Each type once, in the order given.
fn deduplicated(mut types: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    types.retain(|t| seen.insert(t.clone()));
    types
}

/// Registers an endpoint with a fresh secret (in the returned row: show it this once).
pub async fn create(state: &AppState, new: NewEndpoint) -> Result<endpoint::Model, WebhooksError> {
    validate(
        state,
        Some(&new.url),
        Some(&new.description),
        Some(&new.event_types),
    )?;
    let new = NewEndpoint {
        event_types: deduplicated(new.event_types),
        ..new
    };
    let max = state.config().webhooks.max_endpoints.get();
    let txn = state.db().begin_write().await?;
    if store::count_endpoints(&txn).await? >= max {
        return Err(WebhooksError::TooMany(max));
    }
    let created = store::insert_endpoint(&txn, new, model::new_secret()).await?;
    txn.commit().await?;
    tracing::info!(webhook.endpoint = %created.id, "webhook endpoint registered");
    Ok(created)
}

pub async fn list(state: &AppState) -> Result<Vec<endpoint::Model>, WebhooksError> {
    Ok(store::endpoints(state.db().write()).await?)
}

pub async fn get(state: &AppState, id: Uuid) -> Result<endpoint::Model, WebhooksError> {
    store::endpoint(state.db().write(), id)
        .await?
        .ok_or(WebhooksError::EndpointNotFound)
}

/// Changes an endpoint; enabling it again clears its failure record.
pub async fn update(
    state: &AppState,
    id: Uuid,
    changes: EndpointChanges,
) -> Result<endpoint::Model, WebhooksError> {
    validate(
        state,
        changes.url.as_deref(),
        changes.description.as_deref(),
        changes.event_types.as_deref(),
    )?;
    let changes = EndpointChanges {
        event_types: changes.event_types.map(deduplicated),
        ..changes
    };
    let found = get(state, id).await?;
    Ok(store::update_endpoint(state.db().write(), found, changes).await?)
}

/// A new secret; the old one keeps signing for `webhooks.rotation_overlap`.
pub async fn rotate(state: &AppState, id: Uuid) -> Result<endpoint::Model, WebhooksError> {
    let found = get(state, id).await?;
    let overlap = chrono::Duration::from_std(state.config().webhooks.rotation_overlap.get())
        .unwrap_or(chrono::Duration::MAX);
    let until = Utc::now()
        .checked_add_signed(overlap)
        .unwrap_or(chrono::DateTime::<Utc>::MAX_UTC);
    let rotated = store::rotate(state.db().write(), found, model::new_secret(), until).await?;
    tracing::info!(webhook.endpoint = %id, "webhook secret rotated");
    Ok(rotated)
}

/// Sends a signed `ping` to the endpoint now, whatever it subscribes to, and records it
/// like any attempt (not retried).
pub async fn ping(state: &AppState, id: Uuid) -> Result<(Answer, Uuid), WebhooksError> {
    let found = get(state, id).await?;
    let txn = state.db().begin_write().await?;
    let data = serde_json::json!({"endpoint_id": found.id});
    let event = deliveries::insert_event(&txn, EventType::Ping.as_str(), &data).await?;
    let delivery = deliveries::insert_delivery(&txn, event.id, found.id).await?;
    txn.commit().await?;
    let loaded = load(state.db().write(), delivery.id)
        .await?
        .ok_or(WebhooksError::DeliveryNotFound)?;
    let deliverer = Deliverer::new(&state.config().webhooks)?;
    let answer = deliverer
        .attempt(state.db(), &loaded, DeliveryStatus::Dead)
        .await?;
    Ok((answer, event.id))
}

/// The endpoint's latest attempts, newest first.
pub async fn attempts(
    state: &AppState,
    id: Uuid,
    limit: u64,
) -> Result<Vec<(attempt::Model, delivery::Model, event::Model)>, WebhooksError> {
    get(state, id).await?;
    Ok(deliveries::recent_attempts(state.db().write(), id, limit).await?)
}

/// Queues the delivery again, with a fresh retry schedule; same event, same id.
pub async fn resend(state: &AppState, id: Uuid) -> Result<delivery::Model, WebhooksError> {
    let txn = state.db().begin_write().await?;
    deliveries::delivery(&txn, id)
        .await?
        .ok_or(WebhooksError::DeliveryNotFound)?;
    deliveries::set_status(&txn, id, DeliveryStatus::Pending).await?;
    super::emit::enqueue(&txn, id).await?;
    let delivery = deliveries::delivery(&txn, id)
        .await?
        .ok_or(WebhooksError::DeliveryNotFound)?;
    txn.commit().await?;
    state.jobs().wake();
    Ok(delivery)
}

/// The latest deliveries to any endpoint, newest first (the console's list).
pub async fn recent_deliveries(
    state: &AppState,
    limit: u64,
) -> Result<Vec<(delivery::Model, event::Model)>, WebhooksError> {
    Ok(deliveries::recent_deliveries(state.db().write(), limit).await?)
}

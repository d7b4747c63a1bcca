//! HTTP endpoints of webhooks: admins (and API keys with `webhooks:admin`) register,
//! list, edit, disable and test endpoints, rotate their secrets, see recent attempts and
//! resend deliveries.

use super::service;
use super::store::{EndpointChanges, NewEndpoint};
use crate::auth::{BearerAuth, Permission};
use crate::error::ApiError;
use crate::rest::responses::Created;
use crate::state::AppState;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};
use uuid::Uuid;

mod attempts;
mod objects;

use attempts::{WebhookAttemptList, WebhookDelivery, WebhookPingResult};
use objects::{
    CreateWebhookEndpointRequest, UpdateWebhookEndpointRequest, WebhookEndpoint,
    WebhookEndpointList, WebhookEndpointWithSecret,
};

#[derive(Tags)]
enum WebhookTags {
    /// Signed HTTP callbacks on domain events (admins).
    Webhooks,
}

/// 202: the delivery is queued again.
#[derive(ApiResponse)]
enum Queued {
    /// Queued; its attempts appear under the endpoint's deliveries.
    #[oai(status = 202)]
    Queued(Json<WebhookDelivery>),
}

#[derive(Default)]
pub struct WebhooksApi;

#[OpenApi(tag = "WebhookTags::Webhooks")]
impl WebhooksApi {
    /// Register a webhook endpoint
    ///
    /// The answer carries the endpoint's signing `secret`, shown only here and when it is
    /// rotated. An unknown event type, a URL that is not http(s), carries credentials or
    /// points where deliveries may not go (`webhooks.allowed_hosts`, or a private address
    /// without `webhooks.allow_private`) is 422 with a pointer; past
    /// `webhooks.max_endpoints`, 409.
    #[oai(
        path = "/webhook-endpoints",
        method = "post",
        operation_id = "create_webhook_endpoint"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<CreateWebhookEndpointRequest>,
    ) -> Result<Created<WebhookEndpointWithSecret>, ApiError> {
        auth.0.require(Permission::ManageWebhooks)?;
        let body = body.0;
        let new = NewEndpoint {
            url: body.url,
            description: body.description.unwrap_or_default(),
            event_types: body.event_types,
        };
        let created = service::create(&state, new).await?;
        Ok(Created::Created(Json(created.into())))
    }

    /// List webhook endpoints
    #[oai(
        path = "/webhook-endpoints",
        method = "get",
        operation_id = "list_webhook_endpoints"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<Json<WebhookEndpointList>, ApiError> {
        auth.0.require(Permission::ManageWebhooks)?;
        let items = service::list(&state).await?;
        Ok(Json(WebhookEndpointList {
            items: items.into_iter().map(Into::into).collect(),
        }))
    }

    /// One webhook endpoint
    #[oai(
        path = "/webhook-endpoints/:id",
        method = "get",
        operation_id = "get_webhook_endpoint"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<Json<WebhookEndpoint>, ApiError> {
        auth.0.require(Permission::ManageWebhooks)?;
        Ok(Json(service::get(&state, id.0).await?.into()))
    }

    /// Change, disable or enable a webhook endpoint
    #[oai(
        path = "/webhook-endpoints/:id",
        method = "patch",
        operation_id = "update_webhook_endpoint"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<UpdateWebhookEndpointRequest>,
    ) -> Result<Json<WebhookEndpoint>, ApiError> {
        auth.0.require(Permission::ManageWebhooks)?;
        let body = body.0;
        let changes = EndpointChanges {
            url: body.url,
            description: body.description,
            event_types: body.event_types,
            enabled: body.enabled,
        };
        Ok(Json(service::update(&state, id.0, changes).await?.into()))
    }

    /// Rotate an endpoint's secret
    ///
    /// The answer carries the new secret, shown only here. For `webhooks.rotation_overlap`
    /// (24 h by default) deliveries are signed with both secrets: two `v1=` values.
    #[oai(
        path = "/webhook-endpoints/:id/rotate-secret",
        method = "post",
        operation_id = "rotate_webhook_secret"
    )]
    async fn rotate(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<Json<WebhookEndpointWithSecret>, ApiError> {
        auth.0.require(Permission::ManageWebhooks)?;
        Ok(Json(service::rotate(&state, id.0).await?.into()))
    }

    /// Send a test `ping`
    ///
    /// Delivers a signed `ping` event to the endpoint now, whatever its event types, and
    /// answers with how the attempt went (200 whatever the receiver did; `outcome` says).
    /// The attempt is recorded with the others and not retried.
    #[oai(
        path = "/webhook-endpoints/:id/test",
        method = "post",
        operation_id = "test_webhook_endpoint"
    )]
    async fn test(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<Json<WebhookPingResult>, ApiError> {
        auth.0.require(Permission::ManageWebhooks)?;
        let (answer, event_id) = service::ping(&state, id.0).await?;
        Ok(Json(WebhookPingResult {
            event_id,
            outcome: answer.outcome,
            status_code: answer.status.map(i32::from),
            latency_ms: i64::try_from(answer.latency.as_millis()).unwrap_or(i64::MAX),
            error: answer.error,
        }))
    }

    /// Recent delivery attempts to an endpoint
    ///
    /// Newest first: outcome, response code, latency and error of each attempt.
    #[oai(
        path = "/webhook-endpoints/:id/deliveries",
        method = "get",
        operation_id = "list_webhook_attempts"
    )]
    async fn attempts(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        /// How many attempts (1–100, default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
    ) -> Result<Json<WebhookAttemptList>, ApiError> {
        auth.0.require(Permission::ManageWebhooks)?;
        let found = service::attempts(&state, id.0, limit.0.unwrap_or(50)).await?;
        Ok(Json(WebhookAttemptList {
            items: found.into_iter().map(Into::into).collect(),
        }))
    }

    /// Resend a delivery
    ///
    /// Queues the delivery again with a fresh retry schedule: the same event, with the
    /// same `id`, so receivers that already have it can drop the copy.
    #[oai(
        path = "/webhook-deliveries/:id/resend",
        method = "post",
        operation_id = "resend_webhook_delivery"
    )]
    async fn resend(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<Queued, ApiError> {
        auth.0.require(Permission::ManageWebhooks)?;
        let delivery = service::resend(&state, id.0).await?;
        Ok(Queued::Queued(Json(delivery.into())))
    }
}

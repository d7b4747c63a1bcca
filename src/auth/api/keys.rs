//! HTTP endpoints of API-key management (`/api-keys`): admins mint, list and revoke the
//! credentials of server-to-server callers.

use super::AuthTags;
use crate::auth::entity::api_key;
use crate::auth::{BearerAuth, Permission, Scope, api_keys};
use crate::db::pagination::PageRequest;
use crate::error::{ApiError, FieldError};
use crate::rest::responses::{Created, NoContent};
use crate::state::AppState;
use crate::users::NAME;
use crate::validate::collect;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

#[derive(Object)]
#[oai(example)]
struct CreateApiKeyRequest {
    /// What the key is for, 1–100 characters.
    #[oai(deserialize_with = "crate::rest::body::text")]
    name: String,
    /// Scopes granted, e.g. `users:read`.
    scopes: Vec<String>,
    /// When the key stops working; never when absent.
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    expires_at: Option<DateTime<Utc>>,
}

impl Example for CreateApiKeyRequest {
    fn example() -> Self {
        Self {
            name: "billing sync".into(),
            scopes: vec!["users:read".into()],
            expires_at: None,
        }
    }
}

/// An API key as listed; the secret is never shown again.
#[derive(Object)]
#[oai(example)]
struct ApiKeyInfo {
    id: Uuid,
    name: String,
    /// The recognisable start of the key, e.g. `lvk_Ab12Cd34`.
    prefix: String,
    scopes: Vec<String>,
    created_at: DateTime<Utc>,
    #[oai(nullable)]
    expires_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    last_used_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    revoked_at: Option<DateTime<Utc>>,
}

impl Example for ApiKeyInfo {
    fn example() -> Self {
        Self {
            id: Uuid::nil(),
            name: "billing sync".into(),
            prefix: "lvk_Ab12Cd34".into(),
            scopes: vec!["users:read".into()],
            created_at: crate::rest::examples::example_time(),
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
        }
    }
}

impl From<api_key::Model> for ApiKeyInfo {
    fn from(m: api_key::Model) -> Self {
        Self {
            scopes: api_keys::scopes_of(&m)
                .iter()
                .map(|s| s.as_str().to_string())
                .collect(),
            id: m.id,
            name: m.name,
            prefix: m.prefix,
            created_at: m.created_at,
            expires_at: m.expires_at,
            last_used_at: m.last_used_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// A newly created key, including the full secret — shown this once.
#[derive(Object)]
#[oai(example)]
struct CreatedApiKey {
    #[oai(flatten)]
    info: ApiKeyInfo,
    /// The full key to send as `Authorization: Bearer lvk_…`. Store it now.
    key: String,
}

impl Example for CreatedApiKey {
    fn example() -> Self {
        Self {
            info: ApiKeyInfo::example(),
            key: "lvk_Ab12Cd34_q9Xr2v7LmN0pK4sT8wYz1bC6dF3gH5jQ".into(),
        }
    }
}

crate::list_object!(ApiKeyList of ApiKeyInfo);

#[derive(Default)]
pub struct ApiKeysApi;

#[OpenApi(tag = "AuthTags::ApiKeys")]
impl ApiKeysApi {
    /// Create an API key
    #[oai(path = "/api-keys", method = "post", operation_id = "create_api_key")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<CreateApiKeyRequest>,
    ) -> Result<Created<CreatedApiKey>, ApiError> {
        auth.0.require(Permission::ManageApiKeys)?;
        let body = body.0;
        let mut errors = Vec::new();
        let name = collect(NAME.parse(&body.name), &mut errors).unwrap_or_default();
        let scopes: Vec<Scope> = body
            .scopes
            .iter()
            .enumerate()
            .filter_map(|(i, raw)| {
                Scope::parse(raw).or_else(|| {
                    let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                    errors.push(FieldError::at(
                        format!("/scopes/{i}"),
                        format!("unknown scope; known scopes: {}", known.join(", ")),
                    ));
                    None
                })
            })
            .collect();
        if body.expires_at.is_some_and(|at| at <= Utc::now()) {
            errors.push(FieldError::at("/expires_at", "must be in the future"));
        }
        if !errors.is_empty() {
            return Err(ApiError::fields(errors));
        }
        let new = api_keys::NewApiKey {
            name,
            scopes,
            expires_at: body.expires_at,
            created_by: auth.0.user_id()?,
        };
        let (model, key) = api_keys::create(state.db(), new).await?;
        Ok(Created::Created(Json(CreatedApiKey {
            info: model.into(),
            key,
        })))
    }

    /// List API keys, newest first
    #[oai(path = "/api-keys", method = "get", operation_id = "list_api_keys")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<ApiKeyList>, ApiError> {
        auth.0.require(Permission::ManageApiKeys)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        Ok(Json(api_keys::list(state.db(), page).await?.into()))
    }

    /// Revoke an API key
    #[oai(
        path = "/api-keys/:id",
        method = "delete",
        operation_id = "revoke_api_key"
    )]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<NoContent, ApiError> {
        auth.0.require(Permission::ManageApiKeys)?;
        api_keys::revoke(state.db(), id.0).await?;
        Ok(NoContent::Done)
    }
}

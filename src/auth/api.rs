//! HTTP endpoints of authentication (`/auth/…`) and API-key management (`/api-keys`).

use super::{BearerAuth, Permission, Scope, TokenPair, api_keys};
use crate::db::pagination;
use crate::error::{ApiError, FieldError};
use crate::rest::client_ip::client_ip;
use crate::rest::responses::{Created, NoContent};
use crate::state::AppState;
use crate::users::api::User;
use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum AuthTags {
    /// Accounts, sign-in and sessions.
    Auth,
    /// Credentials for server-to-server callers (admins only).
    ApiKeys,
}

/// A new customer account.
#[derive(Object)]
#[oai(example)]
struct RegisterRequest {
    /// Unique, case-insensitive.
    email: String,
    /// At least `auth.min_password_length` (default 10) characters.
    password: String,
    /// Display name, 1–100 characters.
    name: String,
}

impl Example for RegisterRequest {
    fn example() -> Self {
        Self {
            email: "ada@example.com".into(),
            password: "correct horse battery".into(),
            name: "Ada".into(),
        }
    }
}

#[derive(Object)]
#[oai(example)]
struct LoginRequest {
    email: String,
    password: String,
}

impl Example for LoginRequest {
    fn example() -> Self {
        Self {
            email: "ada@example.com".into(),
            password: "correct horse battery".into(),
        }
    }
}

#[derive(Object)]
#[oai(example)]
struct RefreshRequest {
    /// The refresh token from the last login or refresh; it can be used once.
    refresh_token: String,
}

impl Example for RefreshRequest {
    fn example() -> Self {
        Self {
            refresh_token: "lvr_3q2-7wJ9xTQ0b1xY6mVZpQkq2m8sU4xg5v2Yk1cHnRw".into(),
        }
    }
}

/// An OAuth-style token response.
#[derive(Object)]
#[oai(example)]
struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer …`.
    access_token: String,
    /// Opaque, single use: exchange it at `/auth/refresh` for a new pair.
    refresh_token: String,
    /// Always `Bearer`.
    token_type: String,
    /// Seconds until the access token expires.
    expires_in: u64,
}

impl Example for TokenResponse {
    fn example() -> Self {
        Self {
            access_token: "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl"
                .into(),
            refresh_token: RefreshRequest::example().refresh_token,
            token_type: "Bearer".into(),
            expires_in: 900,
        }
    }
}

impl From<TokenPair> for TokenResponse {
    fn from(pair: TokenPair) -> Self {
        Self {
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            token_type: "Bearer".into(),
            expires_in: pair.expires_in,
        }
    }
}

#[derive(Default)]
pub struct AuthApi;

#[OpenApi(tag = "AuthTags::Auth")]
impl AuthApi {
    /// Register a customer account
    #[oai(path = "/auth/register", method = "post", operation_id = "register")]
    async fn register(
        &self,
        state: Data<&AppState>,
        body: Json<RegisterRequest>,
    ) -> Result<Created<User>, ApiError> {
        let user = state
            .auth()
            .register(
                state.db(),
                state.jobs(),
                &state.config().mail,
                &body.email,
                &body.password,
                &body.name,
            )
            .await?;
        Ok(Created::Created(Json(user.into())))
    }

    /// Sign in with email and password
    ///
    /// Repeated failures for one account or from one address are answered with 429.
    #[oai(path = "/auth/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<LoginRequest>,
    ) -> Result<Json<TokenResponse>, ApiError> {
        let ip = client_ip(req, &state.config().server.trusted_proxies).map(|ip| ip.to_string());
        let pair = state
            .auth()
            .login(state.db(), &body.email, &body.password, ip.as_deref())
            .await?;
        Ok(Json(pair.into()))
    }

    /// Exchange a refresh token for a new token pair
    ///
    /// Each refresh token works once. Presenting a used one again revokes every token of
    /// that session (both the thief's and the owner's), except within `auth.refresh_grace`
    /// of its use, so two tabs refreshing together stay signed in.
    #[oai(path = "/auth/refresh", method = "post", operation_id = "refresh")]
    async fn refresh(
        &self,
        state: Data<&AppState>,
        body: Json<RefreshRequest>,
    ) -> Result<Json<TokenResponse>, ApiError> {
        Ok(Json(
            state
                .auth()
                .refresh(state.db(), &body.refresh_token)
                .await?
                .into(),
        ))
    }

    /// Sign out: revoke the session of a refresh token
    #[oai(path = "/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        body: Json<RefreshRequest>,
    ) -> Result<NoContent, ApiError> {
        state.auth().logout(state.db(), &body.refresh_token).await?;
        Ok(NoContent::Done)
    }
}

#[derive(Object)]
#[oai(example)]
struct CreateApiKeyRequest {
    /// What the key is for, 1–100 characters.
    name: String,
    /// Scopes granted, e.g. `users:read`.
    scopes: Vec<String>,
    /// When the key stops working; never when absent.
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
struct ApiKeyInfo {
    id: Uuid,
    name: String,
    /// The recognisable start of the key, e.g. `lvk_Ab12Cd34`.
    prefix: String,
    scopes: Vec<String>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<super::entity::api_key::Model> for ApiKeyInfo {
    fn from(m: super::entity::api_key::Model) -> Self {
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
struct CreatedApiKey {
    #[oai(flatten)]
    info: ApiKeyInfo,
    /// The full key to send as `Authorization: Bearer lvk_…`. Store it now.
    key: String,
}

#[derive(Object)]
struct ApiKeyList {
    items: Vec<ApiKeyInfo>,
    next_cursor: Option<String>,
}

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
        let name = crate::users::parse_name(&body.name, "/name")
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
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
        let (model, key) = api_keys::create(state.db().write(), new).await?;
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
        let (limit, before) = pagination::page_request::<Uuid>(limit.0, cursor.0.as_deref())?;
        let rows = api_keys::list(&state.db().read(), before, limit + 1).await?;
        let (rows, next_cursor) = pagination::split_page(rows, limit, |k| k.id);
        Ok(Json(ApiKeyList {
            items: rows.into_iter().map(Into::into).collect(),
            next_cursor,
        }))
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
        if !api_keys::revoke(state.db().write(), id.0).await? {
            return Err(ApiError::NotFound("no such API key".into()));
        }
        Ok(NoContent::Done)
    }
}

//! HTTP endpoints of authentication (`/auth/…`); API-key management (`/api-keys`) is in
//! `keys.rs`.

mod keys;

pub use keys::ApiKeysApi;

use super::TokenPair;
use crate::error::ApiError;
use crate::rest::client_ip::client_ip;
use crate::rest::responses::{Created, NoContent};
use crate::state::AppState;
use crate::users::api::User;
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

#[derive(Tags)]
pub enum AuthTags {
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
    #[oai(deserialize_with = "crate::rest::body::text")]
    email: String,
    /// At least `auth.min_password_length` (default 10) characters.
    #[oai(deserialize_with = "crate::rest::body::text")]
    password: String,
    /// Display name, 1–100 characters.
    #[oai(deserialize_with = "crate::rest::body::text")]
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
    #[oai(deserialize_with = "crate::rest::body::text")]
    email: String,
    #[oai(deserialize_with = "crate::rest::body::text")]
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
    #[oai(deserialize_with = "crate::rest::body::text")]
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

/// A token pair, which no cache (browser, proxy) may keep (RFC 6749 §5.1).
#[derive(ApiResponse)]
enum Issued {
    /// The new token pair.
    #[oai(status = 200)]
    Tokens(Json<TokenResponse>, #[oai(header = "Cache-Control")] String),
}

impl From<TokenPair> for Issued {
    fn from(pair: TokenPair) -> Self {
        Issued::Tokens(Json(pair.into()), "no-store".into())
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
        let mailing = crate::accounts::Mailing::new(state.config(), state.jobs().clone());
        let user = state
            .auth()
            .register(
                state.db(),
                &mailing,
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
    ) -> Result<Issued, ApiError> {
        let ip = client_ip(req, &state.config().server);
        let pair = state
            .auth()
            .login(state.db(), &body.email, &body.password, ip)
            .await?;
        Ok(pair.into())
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
    ) -> Result<Issued, ApiError> {
        Ok(state
            .auth()
            .refresh(state.db(), &body.refresh_token)
            .await?
            .into())
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

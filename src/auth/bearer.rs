//! The bearer security scheme of the OpenAPI document: JWT access tokens or `lvk_` API keys.

use super::Principal;
use crate::error::ApiError;
use crate::state::AppState;
use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

/// `Authorization: Bearer <access token or API key>`.
#[derive(SecurityScheme)]
#[oai(
    ty = "bearer",
    bearer_format = "JWT or lvk_ API key",
    checker = "check"
)]
pub struct BearerAuth(pub Principal);

async fn check(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| ApiError::Internal("app state missing".into()))?;
    Ok(state
        .auth()
        .authenticate(state.db(), &bearer.token)
        .await
        .map_err(ApiError::from)?)
}

/// The caller on routes where signing in is optional (public reads that show more to
/// staff): `None` without an `Authorization` header, 401 for a bad credential.
pub async fn optional_principal(
    req: &Request,
    state: &AppState,
) -> Result<Option<Principal>, ApiError> {
    let Some(header) = req.headers().get(poem::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let credential = header
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::Unauthorized("expected `Authorization: Bearer <token>`".into()))?;
    state
        .auth()
        .authenticate(state.db(), credential)
        .await
        .map(Some)
        .map_err(Into::into)
}

/// Whether the (optional) caller holds `permission` — for public reads that show staff more
/// (drafts, inactive products). A bad credential is still a 401.
pub async fn caller_may(
    req: &Request,
    state: &AppState,
    permission: super::Permission,
) -> Result<bool, ApiError> {
    Ok(optional_principal(req, state)
        .await?
        .is_some_and(|p| p.allows(permission)))
}

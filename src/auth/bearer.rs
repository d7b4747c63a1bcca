//! The bearer security scheme of the OpenAPI document: JWT access tokens or `lvk_` API keys.

use super::Principal;
use crate::app::AppState;
use crate::error::ApiError;
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
    Ok(state.auth().authenticate(state.db(), &bearer.token).await?)
}

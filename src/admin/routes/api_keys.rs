//! The API keys page and revoking a key (`ManageApiKeys`, as in the API's `/api-keys`).

use super::session::CsrfForm;
use super::{
    CursorQuery, csrf_checked, failed, not_found, permitted, permitted_page, render, timed,
};
use crate::admin::api_keys::{ApiKeysPage, PAGE_SIZE};
use crate::admin::service::Staff;
use crate::admin::users::notice;
use crate::admin::web::{nonce, see_other};
use crate::auth::{AuthError, Permission, api_keys};
use crate::state::AppState;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Response, handler};
use std::time::Instant;
use uuid::Uuid;

/// `GET /admin/api-keys`: every key, newest first.
#[handler]
pub async fn list(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Query(query): Query<CursorQuery>,
) -> Response {
    let started = Instant::now();
    let page = match permitted_page(&staff, Permission::ManageApiKeys, PAGE_SIZE, &query.cursor) {
        Ok(page) => page,
        Err(resp) => return resp,
    };
    match api_keys::list(state.db(), page).await {
        Ok(keys) => {
            let nonce = nonce();
            let page = ApiKeysPage::new(&nonce, &staff, keys, notice(&query.notice));
            timed(render(StatusCode::OK, &page, &nonce), started)
        }
        Err(e) => failed(&staff, "Listing API keys", &e),
    }
}

/// `POST /admin/api-keys/{id}/revoke`: the key stops working at once.
#[handler]
pub async fn revoke(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(resp) = permitted(&staff, Permission::ManageApiKeys) {
        return resp;
    }
    if let Err(resp) = csrf_checked(&staff, &form.csrf_token) {
        return resp;
    }
    let result = match Uuid::parse_str(&id) {
        Ok(id) => api_keys::revoke(state.db(), id).await,
        Err(_) => Err(AuthError::NoSuchApiKey),
    };
    match result {
        Ok(()) => {
            tracing::info!(api_key.id = %id, by = %staff.user.id, "console revoked an API key");
            see_other("/admin/api-keys?notice=revoked", &[])
        }
        Err(AuthError::NoSuchApiKey) => not_found(&staff, "There is no such API key."),
        Err(e) => failed(&staff, "Revoking the API key", &e),
    }
}

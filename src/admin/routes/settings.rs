//! The settings page (`Operate`): configuration, version, migrations.

use super::{failed, permitted, render, timed};
use crate::admin::service::Staff;
use crate::admin::settings::SettingsPage;
use crate::admin::web::nonce;
use crate::auth::Permission;
use crate::state::AppState;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Response, handler};
use std::time::Instant;

/// `GET /admin/settings`.
#[handler]
pub async fn show(state: Data<&AppState>, staff: Data<&Staff>) -> Response {
    let started = Instant::now();
    if let Err(resp) = permitted(&staff, Permission::Operate) {
        return resp;
    }
    let nonce = nonce();
    match SettingsPage::load(&nonce, &staff, &state).await {
        Ok(page) => timed(render(StatusCode::OK, &page, &nonce), started),
        Err(e) => failed(&staff, "Reading the migrations", &e),
    }
}

//! What the operations pages (routes, cache, database, rate limits) share: admins only,
//! and each page built from this process's statistics snapshot.

use super::{permitted, render, timed};
use crate::admin::overview;
use crate::admin::pages::Chrome;
use crate::admin::service::Staff;
use crate::admin::web::nonce;
use crate::auth::Permission;
use crate::state::AppState;
use crate::stats::StatsSnapshot;
use askama::Template;
use poem::Response;
use poem::http::StatusCode;
use std::time::Instant;

/// The 403 page for non-admins, else the page `build` makes of the snapshot.
pub async fn snapshot_page<P: Template>(
    state: &AppState,
    staff: &Staff,
    build: impl FnOnce(Chrome, &StatsSnapshot) -> P,
) -> Response {
    if let Err(forbidden) = permitted(staff, Permission::Operate) {
        return forbidden;
    }
    let started = Instant::now();
    let snap = overview::snapshot(state).await;
    let nonce = nonce();
    let page = build(Chrome::new(&nonce, Some(staff)), &snap);
    timed(render(StatusCode::OK, &page, &nonce), started)
}

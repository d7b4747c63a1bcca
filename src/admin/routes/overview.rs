//! The overview page and its live panel.

use super::{render, timed, timestamp};
use crate::admin::overview;
use crate::admin::pages::{Chrome, OverviewLive, OverviewPage};
use crate::admin::service::Staff;
use crate::admin::web::nonce;
use crate::state::AppState;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Response, handler};
use std::time::Instant;

/// `GET /admin/`: the overview of this process.
#[handler]
pub async fn show(state: Data<&AppState>, staff: Data<&Staff>) -> Response {
    let started = Instant::now();
    let snap = overview::snapshot(&state).await;
    let nonce = nonce();
    let page = OverviewPage {
        chrome: Chrome::new(&nonce, Some(&staff)),
        overview: overview::Overview::new(&snap, staff.user.role),
        version: env!("CARGO_PKG_VERSION"),
        uptime: humantime::format_duration(std::time::Duration::from_secs(snap.uptime_secs))
            .to_string(),
        refresh_ms: state.config().admin.refresh_interval.get().as_millis(),
        taken_at: timestamp(snap.taken_at),
    };
    timed(render(StatusCode::OK, &page, &nonce), started)
}

/// `GET /admin/overview/live`: the overview's live panel alone.
#[handler]
pub async fn live(state: Data<&AppState>, staff: Data<&Staff>) -> Response {
    let started = Instant::now();
    let snap = overview::snapshot(&state).await;
    let page = OverviewLive {
        overview: overview::Overview::new(&snap, staff.user.role),
        taken_at: timestamp(snap.taken_at),
    };
    timed(render(StatusCode::OK, &page, &nonce()), started)
}

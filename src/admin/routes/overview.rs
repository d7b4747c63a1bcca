//! The overview page and its live panel.

use super::{render, timed, timestamp};
use crate::admin::fleet;
use crate::admin::overview::Overview;
use crate::admin::pages::{Chrome, OverviewLive, OverviewPage};
use crate::admin::service::Staff;
use crate::admin::web::nonce;
use crate::state::AppState;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Response, handler};
use std::time::Instant;

/// `GET /admin/`: the overview of the fleet.
#[handler]
pub async fn show(state: Data<&AppState>, staff: Data<&Staff>) -> Response {
    let started = Instant::now();
    let fleet = fleet::gather(&state).await;
    let nonce = nonce();
    let page = OverviewPage {
        chrome: Chrome::new(&nonce, Some(&staff)),
        overview: Overview::new(&fleet, staff.user.role),
        version: env!("CARGO_PKG_VERSION"),
        uptime: humantime::format_duration(std::time::Duration::from_secs(
            state.uptime().as_secs(),
        ))
        .to_string(),
        refresh_ms: state.config().admin.refresh_interval.get().as_millis(),
        taken_at: timestamp(fleet.total.taken_at),
    };
    timed(render(StatusCode::OK, &page, &nonce), started)
}

/// `GET /admin/overview/live`: the overview's live panel alone.
#[handler]
pub async fn live(state: Data<&AppState>, staff: Data<&Staff>) -> Response {
    let started = Instant::now();
    let fleet = fleet::gather(&state).await;
    let page = OverviewLive {
        overview: Overview::new(&fleet, staff.user.role),
        taken_at: timestamp(fleet.total.taken_at),
    };
    timed(render(StatusCode::OK, &page, &nonce()), started)
}

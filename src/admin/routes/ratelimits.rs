//! The rate-limits page.

use super::ops::snapshot_page;
use crate::admin::ratelimits::RateLimitsPage;
use crate::admin::service::Staff;
use crate::state::AppState;
use poem::web::Data;
use poem::{Response, handler};

/// `GET /admin/ratelimits`: decisions per policy per minute.
#[handler]
pub async fn show(state: Data<&AppState>, staff: Data<&Staff>) -> Response {
    let enabled = state.config().rate_limit.enabled;
    snapshot_page(&state, &staff, |chrome, snap| {
        RateLimitsPage::new(chrome, snap, enabled)
    })
    .await
}

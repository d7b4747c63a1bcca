//! The resilience page (`Operate`): every process's provider breakers and bulkheads.

use super::{permitted, render, timed};
use crate::admin::fleet;
use crate::admin::pages::Chrome;
use crate::admin::resilience::ResiliencePage;
use crate::admin::service::Staff;
use crate::admin::web::nonce;
use crate::auth::Permission;
use crate::state::AppState;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Response, handler};
use std::time::Instant;

/// `GET /admin/resilience`.
#[handler]
pub async fn show(state: Data<&AppState>, staff: Data<&Staff>) -> Response {
    if let Err(forbidden) = permitted(&staff, Permission::Operate) {
        return forbidden;
    }
    let started = Instant::now();
    let fleet = fleet::gather(&state).await;
    let nonce = nonce();
    let chrome = Chrome::new(&nonce, Some(&staff));
    let page = ResiliencePage::new(chrome, &fleet, state.config());
    timed(render(StatusCode::OK, &page, &nonce), started)
}

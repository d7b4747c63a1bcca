//! The database page.

use super::ops::snapshot_page;
use crate::admin::database::DatabasePage;
use crate::admin::service::Staff;
use crate::state::AppState;
use poem::web::Data;
use poem::{Response, handler};

/// `GET /admin/database`: pools and replica lag.
#[handler]
pub async fn show(state: Data<&AppState>, staff: Data<&Staff>) -> Response {
    let max_lag = state.config().database.max_replica_lag.get();
    snapshot_page(&state, &staff, |chrome, snap| {
        DatabasePage::new(chrome, snap, max_lag)
    })
    .await
}

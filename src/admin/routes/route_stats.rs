//! The routes page.

use super::ops::snapshot_page;
use crate::admin::route_stats::RoutesPage;
use crate::admin::service::Staff;
use crate::state::AppState;
use poem::web::{Data, Query};
use poem::{Response, handler};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Sort {
    sort: Option<String>,
    dir: Option<String>,
}

/// `GET /admin/routes?sort=p95&dir=desc`: RED per route template.
#[handler]
pub async fn show(state: Data<&AppState>, staff: Data<&Staff>, query: Query<Sort>) -> Response {
    snapshot_page(&state, &staff, |chrome, snap| {
        RoutesPage::new(chrome, snap, query.sort.as_deref(), query.dir.as_deref())
    })
    .await
}

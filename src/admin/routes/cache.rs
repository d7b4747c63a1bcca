//! The cache page and its purge form.

use super::ops::snapshot_page;
use super::{csrf_checked, message, permitted};
use crate::admin::cache::{self, CachePage};
use crate::admin::service::Staff;
use crate::admin::web::see_other;
use crate::auth::Permission;
use crate::state::AppState;
use poem::http::StatusCode;
use poem::web::{Data, Form, Query};
use poem::{Response, handler};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Notice {
    notice: Option<String>,
}

/// `GET /admin/cache`: hit ratios per namespace and tier, L1, Redis errors, purge form.
#[handler]
pub async fn show(state: Data<&AppState>, staff: Data<&Staff>, query: Query<Notice>) -> Response {
    let has_l2 = cache::has_l2(&state);
    snapshot_page(&state, &staff, |chrome, snap| {
        CachePage::new(chrome, snap, has_l2, query.notice.as_deref())
    })
    .await
}

#[derive(Deserialize)]
pub struct PurgeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    namespace: String,
    /// Blank: the whole namespace.
    #[serde(default)]
    key: String,
}

/// `POST /admin/cache/purge`: forgets a key or a namespace on every instance, then 303
/// back to the cache page with a notice.
#[handler]
pub async fn purge(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Form(form): Form<PurgeForm>,
) -> Response {
    if let Err(forbidden) = permitted(&staff, Permission::Operate) {
        return forbidden;
    }
    if let Err(forbidden) = csrf_checked(&staff, &form.csrf_token) {
        return forbidden;
    }
    match cache::purge(&state, &form.namespace, &form.key).await {
        Ok(notice) => {
            tracing::info!(
                user.id = %staff.user.id,
                cache.namespace = %form.namespace.trim(),
                whole_namespace = form.key.trim().is_empty(),
                "cache purged from the console"
            );
            see_other(&format!("/admin/cache?notice={notice}"), &[])
        }
        Err(e) => message(
            StatusCode::BAD_REQUEST,
            Some(&staff),
            "Cannot purge",
            e.to_string(),
        ),
    }
}

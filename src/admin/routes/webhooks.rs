//! The webhooks page, with the permission the API's webhook operations need
//! (`ManageWebhooks`).

use super::session::CsrfForm;
use super::{NoticeQuery, csrf_checked, failed, not_found, permitted, render, timed};
use crate::admin::service::Staff;
use crate::admin::web::{nonce, see_other};
use crate::admin::webhooks::{self, RECENT, WebhooksPage};
use crate::auth::Permission;
use crate::state::AppState;
use crate::webhooks::{WebhooksError, service};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Response, handler};
use std::time::Instant;

/// `GET /admin/webhooks`: every endpoint and the latest deliveries.
#[handler]
pub async fn show(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let started = Instant::now();
    if let Err(resp) = permitted(&staff, Permission::ManageWebhooks) {
        return resp;
    }
    let found = match service::list(&state).await {
        Ok(endpoints) => service::recent_deliveries(&state, RECENT)
            .await
            .map(|deliveries| (endpoints, deliveries)),
        Err(e) => Err(e),
    };
    let (endpoints, deliveries) = match found {
        Ok(found) => found,
        Err(e) => return failed(&staff, "Listing webhooks", &e),
    };
    let nonce = nonce();
    let notice = webhooks::notice(&query.notice);
    let page = WebhooksPage::new(&nonce, &staff, endpoints, deliveries, notice);
    timed(render(StatusCode::OK, &page, &nonce), started)
}

/// `POST /admin/webhooks/deliveries/{id}/resend`: queues the delivery again as
/// `POST /webhook-deliveries/{id}/resend` does, then 303 to the page.
#[handler]
pub async fn resend(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(resp) = permitted(&staff, Permission::ManageWebhooks) {
        return resp;
    }
    if let Err(resp) = csrf_checked(&staff, &form.csrf_token) {
        return resp;
    }
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return not_found(&staff, "There is no such delivery.");
    };
    match service::resend(&state, id).await {
        Ok(_) => {
            tracing::info!(webhook.delivery = %id, by = %staff.user.id, "console resent a webhook delivery");
            see_other("/admin/webhooks?notice=resent", &[])
        }
        Err(WebhooksError::DeliveryNotFound) => not_found(&staff, "There is no such delivery."),
        Err(e) => failed(&staff, "Resending the delivery", &e),
    }
}

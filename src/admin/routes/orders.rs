//! The orders pages, with the permission the API's staff listing needs (`ReadOrders`).

use super::session::CsrfForm;
use super::{
    NoticeQuery, csrf_checked, failed, message, not_found, paged, permitted, render, timed,
};
use crate::admin::orders::{self, OrderPage, OrdersPage, PAGE_SIZE};
use crate::admin::pages::Chrome;
use crate::admin::service::Staff;
use crate::admin::web::{nonce, see_other};
use crate::auth::Permission;
use crate::orders::service::{self, Viewer};
use crate::orders::{OrderFilter, OrdersError};
use crate::state::AppState;
use crate::users::{self, UsersError};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Response, handler};
use serde::Deserialize;
use std::time::Instant;

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    cursor: String,
}

/// `GET /admin/orders?status=…&cursor=…`: every customer's orders, newest first.
#[handler]
pub async fn list(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Query(query): Query<ListQuery>,
) -> Response {
    let started = Instant::now();
    if let Err(resp) = permitted(&staff, Permission::ReadOrders) {
        return resp;
    }
    let nonce = nonce();
    let chrome = Chrome::new(&nonce, Some(&staff));
    let filter = orders::status_filter(&query.status);
    let (status, page) = match paged(PAGE_SIZE, &query.cursor, filter) {
        Ok(parsed) => parsed,
        Err(why) => {
            let page = OrdersPage::refused(chrome, why);
            return render(StatusCode::BAD_REQUEST, &page, &nonce);
        }
    };
    let filter = OrderFilter { user: None, status };
    match service::list(&state, filter, page).await {
        Ok(found) => {
            let page = OrdersPage::new(chrome, status, found);
            timed(render(StatusCode::OK, &page, &nonce), started)
        }
        Err(e) => failed(&staff, "Listing orders", &e),
    }
}

fn no_such_order(staff: &Staff) -> Response {
    not_found(staff, "There is no such order.")
}

/// The order `raw` names as staff see it, or the 404 page for anything that is not one.
#[expect(
    clippy::result_large_err,
    reason = "the error is the page to answer with, returned once per request"
)]
fn order_of(staff: &Staff, raw: &str) -> Result<(Viewer, uuid::Uuid), Response> {
    let id = uuid::Uuid::parse_str(raw).map_err(|_| no_such_order(staff))?;
    let viewer = Viewer {
        user: Some(staff.user.id),
        staff: true,
    };
    Ok((viewer, id))
}

/// `GET /admin/orders/{id}`: the order, its customer and its event log.
#[handler]
pub async fn show(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let started = Instant::now();
    if let Err(resp) = permitted(&staff, Permission::ReadOrders) {
        return resp;
    }
    let (viewer, id) = match order_of(&staff, &id) {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let found = match service::get(&state, viewer, id).await {
        Ok(placed) => service::events(&state, viewer, id)
            .await
            .map(|events| (placed, events)),
        Err(e) => Err(e),
    };
    let (placed, events) = match found {
        Ok(found) => found,
        Err(OrdersError::NotFound) => return no_such_order(&staff),
        Err(e) => return failed(&staff, "Reading the order", &e),
    };
    let customer = match users::get(state.db(), placed.order.user_id).await {
        Ok(user) => Some(user),
        Err(UsersError::NotFound) => None,
        Err(e) => return failed(&staff, "Reading the customer", &e),
    };
    let nonce = nonce();
    let notice = orders::notice(&query.notice);
    let page = OrderPage::new(&nonce, &staff, placed, customer, events, notice);
    timed(render(StatusCode::OK, &page, &nonce), started)
}

/// `POST /admin/orders/{id}/cancel`: cancels as `POST /orders/{id}/cancel` does for staff
/// (`ManageOrders`), then 303 to the order's page.
#[handler]
pub async fn cancel(
    state: Data<&AppState>,
    staff: Data<&Staff>,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(resp) = permitted(&staff, Permission::ManageOrders) {
        return resp;
    }
    if let Err(resp) = csrf_checked(&staff, &form.csrf_token) {
        return resp;
    }
    let (viewer, id) = match order_of(&staff, &id) {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    match service::cancel(&state, viewer, id).await {
        Ok(_) => {
            tracing::info!(order.id = %id, by = %staff.user.id, "console cancelled an order");
            see_other(&format!("/admin/orders/{id}?notice=cancelled"), &[])
        }
        Err(OrdersError::NotFound) => no_such_order(&staff),
        Err(e @ OrdersError::NotCancellable(_)) => message(
            StatusCode::CONFLICT,
            Some(&staff),
            "Conflict",
            e.to_string(),
        ),
        Err(e) => failed(&staff, "Cancelling the order", &e),
    }
}

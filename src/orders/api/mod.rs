//! HTTP endpoints for orders. Customers place orders and see and cancel their own; staff
//! (admins, API keys with `orders:read` / `orders:write`) list, filter and cancel any.

use super::model::{Address, OrderStatus, parse_lines};
use super::service::{self, NewOrder, Viewer};
use super::store::{OrderFilter, Placed};
use crate::auth::{BearerAuth, Permission, Principal};
use crate::db::pagination::PageRequest;
use crate::error::ApiError;
use crate::idempotency::Outcome;
use crate::rest::idempotency::{IdempotencyKey, IdempotentError, stored_json};
use crate::state::AppState;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};
use uuid::Uuid;

mod objects;

use objects::{Order, OrderEvents, OrderList, PlaceOrderRequest};

#[derive(Tags)]
enum OrderTags {
    /// Checkout: orders placed by customers, processed in the background.
    Orders,
}

/// 202: the order is accepted and will be processed in the background.
#[derive(ApiResponse)]
enum Accepted {
    /// Accepted; poll `Location` for its progress.
    #[oai(status = 202)]
    Accepted(
        Json<Order>,
        /// The order's address, relative: `/orders/{id}`.
        #[oai(header = "Location")]
        String,
    ),
}

/// The order's address, relative.
fn location(placed: &Placed) -> String {
    format!("/orders/{}", placed.order.id)
}

/// Who the caller is to an order: staff when they hold `permission`.
fn viewer(principal: &Principal, permission: Permission) -> Viewer {
    Viewer {
        user: principal.user_id().ok(),
        staff: principal.allows(permission),
    }
}

#[derive(Default)]
pub struct OrdersApi;

#[OpenApi(tag = "OrderTags::Orders")]
impl OrdersApi {
    /// Place an order
    ///
    /// Prices come from the catalog as it is now. The answer is immediate (202, status
    /// `pending`); stock is reserved, payment taken and the shipment created in the
    /// background — poll the order. An order that cannot get all its stock is `rejected`.
    /// Unknown, withdrawn or inactive SKUs and mixed currencies are 422 with a pointer to
    /// the line.
    ///
    /// `Idempotency-Key` is required: a retry with the same key and body within
    /// `idempotency.ttl` answers the first response again (marked
    /// `Idempotency-Replayed: true`) and places no second order.
    #[oai(path = "/orders", method = "post", operation_id = "place_order")]
    async fn place(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// A unique value per order (e.g. a UUID), 1–255 printable ASCII characters; the
        /// same key with another body is refused with 422, and while the first request
        /// with it is still being answered with 409.
        #[oai(name = "Idempotency-Key")]
        idempotency: IdempotencyKey<true>,
        body: Json<PlaceOrderRequest>,
    ) -> Result<Outcome<Accepted>, IdempotentError> {
        let user = auth.0.user_id()?;
        crate::accounts::require_verified(state.db(), state.config(), &auth.0)
            .await
            .map_err(ApiError::from)?;
        let body = body.0;
        let max_quantity = state.config().orders.max_quantity.get();
        let items: Vec<(String, i64)> = body
            .items
            .into_iter()
            .map(|i| (i.sku, i.quantity))
            .collect();
        let lines = parse_lines(&items, i64::try_from(max_quantity).unwrap_or(i64::MAX));
        let address = Address::parse(body.shipping_address.into());
        let (lines, address) = match (lines, address) {
            (Ok(lines), Ok(address)) => (lines, address),
            (lines, address) => {
                let errors = [lines.err(), address.err()].into_iter().flatten().flatten();
                return Err(ApiError::fields(errors.collect()).into());
            }
        };
        let request = idempotency.of_required_caller(auth.0.idempotency_scope())?;
        let new = NewOrder {
            user,
            lines,
            address,
        };
        let placed = service::place(&state, new, &request, |placed| {
            let mut stored = stored_json(202, &Order::from(placed.clone()));
            stored.headers.push(("location".into(), location(placed)));
            stored
        })
        .await?;
        Ok(placed.map(|placed| {
            let location = location(&placed);
            Accepted::Accepted(Json(placed.into()), location)
        }))
    }

    /// List orders
    ///
    /// Your own orders, newest first. With `all=true` (admins, or API keys with
    /// `orders:read`) every customer's; `status` filters either list.
    #[oai(path = "/orders", method = "get", operation_id = "list_orders")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        status: Query<Option<OrderStatus>>,
        /// Every customer's orders instead of yours (staff).
        all: Query<Option<bool>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u64>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<OrderList>, ApiError> {
        let user = if all.0.unwrap_or(false) {
            auth.0.require(Permission::ReadOrders)?;
            None
        } else {
            Some(auth.0.user_id()?)
        };
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let filter = OrderFilter {
            user,
            status: status.0,
        };
        Ok(Json(service::list(&state, filter, page).await?.into()))
    }

    /// One order
    ///
    /// Yours, or any (staff); other customers' orders are 404.
    #[oai(path = "/orders/:id", method = "get", operation_id = "get_order")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<Json<Order>, ApiError> {
        let viewer = viewer(&auth.0, Permission::ReadOrders);
        Ok(Json(service::get(&state, viewer, id.0).await?.into()))
    }

    /// An order's event log
    ///
    /// Every change of state, oldest first, with the domain event it raised.
    #[oai(
        path = "/orders/:id/events",
        method = "get",
        operation_id = "order_events"
    )]
    async fn events(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<Json<OrderEvents>, ApiError> {
        let viewer = viewer(&auth.0, Permission::ReadOrders);
        Ok(Json(service::events(&state, viewer, id.0).await?.into()))
    }

    /// Cancel an order
    ///
    /// Possible until the shipment exists (`pending`, `reserved`, `paid`; otherwise 409).
    /// Reserved stock is released; a paid order is refunded, then its stock released.
    #[oai(
        path = "/orders/:id/cancel",
        method = "post",
        operation_id = "cancel_order"
    )]
    async fn cancel(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<Json<Order>, ApiError> {
        let viewer = viewer(&auth.0, Permission::ManageOrders);
        Ok(Json(service::cancel(&state, viewer, id.0).await?.into()))
    }
}

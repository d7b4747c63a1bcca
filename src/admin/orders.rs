//! The orders pages: recent orders (newest first, optionally of one state) and one order
//! with its lines, address and event log. The reads are the orders service's, the same
//! the API's staff listing and `GET /orders/{id}/events` use.

use super::csrf;
use super::pages::Chrome;
use super::service::Staff;
use super::users::shown_time;
use crate::auth::Permission;
use crate::db::pagination::Page;
use crate::orders::entity::event;
use crate::orders::{Address, OrderStatus, Placed};
use crate::users;
use askama::Template;
use sea_orm::Iterable;

/// Orders per page.
pub const PAGE_SIZE: u64 = 25;

/// The state a `?status=` names (blank: every state), or why it is refused. Only the
/// known states are accepted, so the value echoed back is never the client's text.
pub fn status_filter(raw: &str) -> Result<Option<OrderStatus>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    OrderStatus::iter()
        .find(|s| s.as_str() == raw)
        .map(Some)
        .ok_or_else(|| "Choose one of the listed states.".to_string())
}

/// What a `?notice=` code after a change says; only fixed messages are shown.
pub fn notice(code: &str) -> Option<&'static str> {
    match code {
        "cancelled" => Some("The order was cancelled; paid orders are refunded."),
        _ => None,
    }
}

/// A state in the filter's select, with whether it is the one shown.
pub struct StatusOption {
    pub value: &'static str,
    pub selected: bool,
}

fn status_options(chosen: Option<OrderStatus>) -> Vec<StatusOption> {
    OrderStatus::iter()
        .map(|s| StatusOption {
            value: s.as_str(),
            selected: Some(s) == chosen,
        })
        .collect()
}

/// An amount in minor units with its currency, as the API gives it (no decimals are
/// guessed: currencies differ in how many they have).
fn amount(minor: i64, currency: &impl std::fmt::Display) -> String {
    format!("{minor} {currency}")
}

/// One order as the list shows it.
pub struct OrderRow {
    pub id: String,
    pub customer: String,
    pub status: &'static str,
    pub lines: usize,
    pub total: String,
    pub created_at: String,
}

impl From<Placed> for OrderRow {
    fn from(p: Placed) -> Self {
        Self {
            id: p.order.id.to_string(),
            customer: p.order.user_id.0.to_string(),
            status: p.order.status.as_str(),
            lines: p.lines.len(),
            total: amount(p.order.total_amount, &p.order.currency),
            created_at: shown_time(p.order.created_at),
        }
    }
}

/// The link to the page after `cursor`, keeping the filter.
fn next_href(status: Option<OrderStatus>, cursor: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(status) = status {
        query.append_pair("status", status.as_str());
    }
    query.append_pair("cursor", cursor);
    format!("/admin/orders?{}", query.finish())
}

#[derive(Template)]
#[template(path = "admin/orders.html")]
pub struct OrdersPage {
    pub chrome: Chrome,
    pub statuses: Vec<StatusOption>,
    pub rows: Vec<OrderRow>,
    pub next: Option<String>,
    pub error: Option<String>,
}

impl OrdersPage {
    pub fn new(chrome: Chrome, status: Option<OrderStatus>, page: Page<Placed>) -> Self {
        Self {
            chrome,
            statuses: status_options(status),
            next: page.next_cursor.map(|c| next_href(status, &c)),
            rows: page.items.into_iter().map(OrderRow::from).collect(),
            error: None,
        }
    }

    /// The filter form again with why the request was refused.
    pub fn refused(chrome: Chrome, error: String) -> Self {
        Self {
            chrome,
            statuses: status_options(None),
            rows: Vec::new(),
            next: None,
            error: Some(error),
        }
    }
}

/// One line of an order.
pub struct LineRow {
    pub sku: String,
    pub quantity: i64,
    pub unit_price: String,
}

/// One entry of the event log.
pub struct EventRow {
    pub at: String,
    pub from: &'static str,
    pub to: &'static str,
    pub event: String,
    pub note: String,
}

impl From<event::Model> for EventRow {
    fn from(e: event::Model) -> Self {
        Self {
            at: shown_time(e.created_at),
            from: e.from_status.map_or("–", OrderStatus::as_str),
            to: e.to_status.as_str(),
            event: e.event.unwrap_or_default(),
            note: e.detail.unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/order.html")]
pub struct OrderPage {
    pub chrome: Chrome,
    pub order: OrderRow,
    pub notice: Option<&'static str>,
    pub may_cancel: bool,
    pub csrf_token: String,
    pub customer_email: Option<String>,
    pub reason: String,
    pub address: Option<Address>,
    pub lines: Vec<LineRow>,
    pub events: Vec<EventRow>,
}

impl OrderPage {
    /// The page of `placed` (by `customer`, `None` when the account is gone) for `staff`,
    /// with the cancel form when their role allows it and the order is still cancellable.
    pub fn new(
        nonce: &str,
        staff: &Staff,
        placed: Placed,
        customer: Option<users::Model>,
        events: Vec<event::Model>,
        notice: Option<&'static str>,
    ) -> Self {
        let currency = placed.order.currency.clone();
        let lines = placed
            .lines
            .iter()
            .map(|l| LineRow {
                sku: l.sku.to_string(),
                quantity: l.quantity,
                unit_price: amount(l.unit_price, &currency),
            })
            .collect();
        Self {
            chrome: Chrome::new(nonce, Some(staff)),
            notice,
            may_cancel: Permission::ManageOrders.granted_to(staff.user.role)
                && OrderStatus::CANCELLABLE.contains(&placed.order.status),
            csrf_token: csrf::token(&staff.session),
            customer_email: customer.map(|c| c.email.into()),
            reason: placed.order.reason.clone().unwrap_or_default(),
            // Stored as validated when the order was placed; unreadable JSON shows none.
            address: serde_json::from_str(&placed.order.shipping_address).ok(),
            lines,
            events: events.into_iter().map(EventRow::from).collect(),
            order: placed.into(),
        }
    }
}

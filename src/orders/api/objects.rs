//! The representations of orders: what the endpoints read and write as JSON.

use super::super::entity::event;
use super::super::model::{Address, OrderStatus};
use super::super::store::Placed;
use crate::products::api::Price;
use crate::rest::examples::example_time;
use chrono::{DateTime, Utc};
use poem_openapi::Object;
use poem_openapi::types::Example;
use uuid::Uuid;

/// One line of a new order.
#[derive(Object)]
pub struct OrderItemRequest {
    /// The product's SKU.
    #[oai(deserialize_with = "crate::rest::body::text")]
    pub sku: String,
    /// Units, 1 to `orders.max_quantity` (default 100).
    pub quantity: i64,
}

/// Where to ship, as sent.
#[derive(Object)]
pub struct ShippingAddressRequest {
    /// 1–200 characters.
    #[oai(deserialize_with = "crate::rest::body::text")]
    pub name: String,
    /// 1–200 characters.
    #[oai(deserialize_with = "crate::rest::body::text")]
    pub line1: String,
    /// 1–200 characters; leave it out when there is none.
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub line2: Option<String>,
    /// 1–100 characters.
    #[oai(deserialize_with = "crate::rest::body::text")]
    pub city: String,
    /// 1–20 characters.
    #[oai(deserialize_with = "crate::rest::body::text")]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    #[oai(deserialize_with = "crate::rest::body::text")]
    pub country: String,
}

/// A new order: 1–50 lines, each SKU once, all in one currency.
#[derive(Object)]
#[oai(example)]
pub struct PlaceOrderRequest {
    pub items: Vec<OrderItemRequest>,
    pub shipping_address: ShippingAddressRequest,
}

impl Example for PlaceOrderRequest {
    fn example() -> Self {
        Self {
            items: vec![OrderItemRequest {
                sku: "TEE-BLK-L".into(),
                quantity: 2,
            }],
            shipping_address: ShippingAddressRequest {
                name: "Ada Lovelace".into(),
                line1: "12 St James's Square".into(),
                line2: None,
                city: "London".into(),
                postal_code: "SW1Y 4JH".into(),
                country: "GB".into(),
            },
        }
    }
}

impl From<ShippingAddressRequest> for Address {
    fn from(a: ShippingAddressRequest) -> Self {
        Address {
            name: a.name,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

/// Where an order ships to.
#[derive(Object)]
pub struct ShippingAddress {
    name: String,
    line1: String,
    #[oai(nullable)]
    line2: Option<String>,
    city: String,
    postal_code: String,
    country: String,
}

impl From<Address> for ShippingAddress {
    fn from(a: Address) -> Self {
        Self {
            name: a.name,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

/// One line of an order, at the price it was placed at.
#[derive(Object)]
pub struct OrderItem {
    sku: String,
    quantity: i64,
    unit_price: Price,
}

/// An order. `status` moves `pending → reserved → paid → fulfilled → completed` on its
/// own, or ends `rejected`, `failed` or `cancelled` (with a `reason`).
#[derive(Object)]
#[oai(example)]
pub struct Order {
    id: Uuid,
    status: OrderStatus,
    items: Vec<OrderItem>,
    total: Price,
    shipping_address: ShippingAddress,
    /// Why the order was rejected, failed or cancelled.
    #[oai(nullable)]
    reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Placed> for Order {
    fn from(p: Placed) -> Self {
        let currency = p.order.currency.to_string();
        let price = |amount| Price {
            amount,
            currency: currency.clone(),
        };
        let address = serde_json::from_str::<Address>(&p.order.shipping_address);
        Self {
            id: p.order.id,
            status: p.order.status,
            items: p
                .lines
                .into_iter()
                .map(|l| OrderItem {
                    sku: l.sku.to_string(),
                    quantity: l.quantity,
                    unit_price: price(l.unit_price),
                })
                .collect(),
            total: price(p.order.total_amount),
            // Every stored address was written by levee from a parsed one.
            shipping_address: address.unwrap_or_default().into(),
            reason: p.order.reason,
            created_at: p.order.created_at,
            updated_at: p.order.updated_at,
        }
    }
}

impl Example for Order {
    fn example() -> Self {
        let request = PlaceOrderRequest::example();
        Self {
            id: Uuid::nil(),
            status: OrderStatus::Pending,
            items: vec![OrderItem {
                sku: "TEE-BLK-L".into(),
                quantity: 2,
                unit_price: Price::example(),
            }],
            total: Price {
                amount: 3998,
                currency: "EUR".into(),
            },
            shipping_address: Address::from(request.shipping_address).into(),
            reason: None,
            created_at: example_time(),
            updated_at: example_time(),
        }
    }
}

crate::list_object!(pub OrderList of Order);

/// One entry of an order's event log.
#[derive(Object)]
#[oai(example)]
pub struct OrderEvent {
    /// `null` for the event that created the order.
    #[oai(nullable)]
    from_status: Option<OrderStatus>,
    to_status: OrderStatus,
    /// The domain event raised: `order.confirmed`, `order.completed`, `order.failed`,
    /// `order.cancelled`.
    #[oai(nullable)]
    event: Option<String>,
    #[oai(nullable)]
    detail: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<event::Model> for OrderEvent {
    fn from(e: event::Model) -> Self {
        Self {
            from_status: e.from_status,
            to_status: e.to_status,
            event: e.event,
            detail: e.detail,
            created_at: e.created_at,
        }
    }
}

impl Example for OrderEvent {
    fn example() -> Self {
        Self {
            from_status: Some(OrderStatus::Reserved),
            to_status: OrderStatus::Paid,
            event: Some("order.confirmed".into()),
            detail: None,
            created_at: example_time(),
        }
    }
}

/// An order's event log, oldest first.
#[derive(Object)]
#[oai(example)]
pub struct OrderEvents {
    items: Vec<OrderEvent>,
}

impl Example for OrderEvents {
    fn example() -> Self {
        Self {
            items: vec![OrderEvent::example()],
        }
    }
}

impl From<Vec<event::Model>> for OrderEvents {
    fn from(events: Vec<event::Model>) -> Self {
        Self {
            items: events.into_iter().map(Into::into).collect(),
        }
    }
}

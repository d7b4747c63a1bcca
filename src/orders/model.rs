//! The values of orders: their states and what each transition raises, where an order's
//! stock stands, and the validated basket and address a customer sends.

use crate::error::FieldError;
use crate::products::Sku;
use crate::validate::{TextRule, collect};
use std::collections::HashSet;

/// Most lines one order may have.
pub const MAX_LINES: usize = 50;

crate::stored_enum! {
    /// Where an order is in its saga. `pending → reserved → paid → fulfilled → completed`,
    /// or it ends `rejected` (stock ran out), `failed` (a provider declined; compensated)
    /// or `cancelled`.
    pub enum OrderStatus {
        Pending,
        Reserved,
        Paid,
        Fulfilled,
        Completed,
        Rejected,
        Failed,
        Cancelled,
    }
}

impl OrderStatus {
    /// States a customer or an admin may still cancel from: before the shipment exists.
    pub const CANCELLABLE: [OrderStatus; 3] = [
        OrderStatus::Pending,
        OrderStatus::Reserved,
        OrderStatus::Paid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Reserved => "reserved",
            OrderStatus::Paid => "paid",
            OrderStatus::Fulfilled => "fulfilled",
            OrderStatus::Completed => "completed",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Failed => "failed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// The domain event reaching this state raises, for the webhooks to deliver.
    pub fn domain_event(self) -> Option<&'static str> {
        match self {
            OrderStatus::Paid => Some("order.confirmed"),
            OrderStatus::Completed => Some("order.completed"),
            OrderStatus::Rejected | OrderStatus::Failed => Some("order.failed"),
            OrderStatus::Cancelled => Some("order.cancelled"),
            OrderStatus::Pending | OrderStatus::Reserved | OrderStatus::Fulfilled => None,
        }
    }
}

crate::stored_enum! {
    /// Where an order's units stand: none held yet, reserved, given back, or sold.
    pub enum StockHold {
        None,
        Reserved,
        Released,
        Committed,
    }
}

/// One validated line of a basket, before prices are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedLine {
    pub sku: Sku,
    pub quantity: i64,
}

/// Checks the lines of a basket: 1–[`MAX_LINES`] lines, quantities 1–`max_quantity`, no SKU
/// twice. Errors point at `/items/{i}/…`.
pub fn parse_lines(
    items: &[(String, i64)],
    max_quantity: i64,
) -> Result<Vec<WantedLine>, Vec<FieldError>> {
    if items.is_empty() || items.len() > MAX_LINES {
        return Err(vec![FieldError::at(
            "/items",
            format!("must hold 1–{MAX_LINES} lines"),
        )]);
    }
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut lines = Vec::with_capacity(items.len());
    for (i, (sku, quantity)) in items.iter().enumerate() {
        let sku = collect(Sku::parse(sku, &format!("/items/{i}/sku")), &mut errors);
        if !(1..=max_quantity).contains(quantity) {
            errors.push(FieldError::at(
                format!("/items/{i}/quantity"),
                format!("must be 1–{max_quantity}"),
            ));
        }
        if let Some(sku) = sku {
            if !seen.insert(sku.clone()) {
                errors.push(FieldError::at(
                    format!("/items/{i}/sku"),
                    "is already on another line; order it once with the total quantity",
                ));
            }
            lines.push(WantedLine {
                sku,
                quantity: *quantity,
            });
        }
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(errors)
    }
}

/// A shipping address as sent, checked field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Address {
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
}

const NAME: TextRule = TextRule::required("/shipping_address/name", 200);
const LINE1: TextRule = TextRule::required("/shipping_address/line1", 200);
const LINE2: TextRule = TextRule::required("/shipping_address/line2", 200);
const CITY: TextRule = TextRule::required("/shipping_address/city", 100);
const POSTAL_CODE: TextRule = TextRule::required("/shipping_address/postal_code", 20);

impl Address {
    /// Trims and bounds every field; errors point at `/shipping_address/…`.
    pub fn parse(raw: Address) -> Result<Address, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = collect(NAME.parse(&raw.name), &mut errors);
        let line1 = collect(LINE1.parse(&raw.line1), &mut errors);
        let line2 = raw
            .line2
            .as_deref()
            .map(|l| collect(LINE2.parse(l), &mut errors));
        let city = collect(CITY.parse(&raw.city), &mut errors);
        let postal_code = collect(POSTAL_CODE.parse(&raw.postal_code), &mut errors);
        let country = raw.country.trim();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push(FieldError::at(
                "/shipping_address/country",
                "must be an ISO 3166-1 alpha-2 code such as DE or US",
            ));
        }
        match (name, line1, line2, city, postal_code) {
            (Some(name), Some(line1), line2, Some(city), Some(postal_code))
                if errors.is_empty() =>
            {
                Ok(Address {
                    name,
                    line1,
                    line2: line2.flatten(),
                    city,
                    postal_code,
                    country: country.to_string(),
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pointers(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().filter_map(|e| e.pointer).collect()
    }

    #[test]
    fn baskets_are_bounded_and_name_each_sku_once() {
        let lines = [("A".to_string(), 1), ("B".to_string(), 100)];
        assert_eq!(parse_lines(&lines, 100).map(|l| l.len()), Ok(2));
        assert_eq!(
            parse_lines(&[], 100).map_err(pointers),
            Err(vec!["/items".to_string()])
        );
        let bad = [
            ("A".to_string(), 0),
            ("A".to_string(), 101),
            ("no space".to_string(), 1),
        ];
        assert_eq!(
            parse_lines(&bad, 100).map_err(pointers),
            Err(vec![
                "/items/0/quantity".to_string(),
                "/items/1/quantity".to_string(),
                "/items/1/sku".to_string(),
                "/items/2/sku".to_string(),
            ])
        );
    }

    #[test]
    fn every_transition_that_ends_or_confirms_an_order_raises_a_domain_event() {
        assert_eq!(OrderStatus::Paid.domain_event(), Some("order.confirmed"));
        assert_eq!(OrderStatus::Rejected.domain_event(), Some("order.failed"));
        assert_eq!(OrderStatus::Reserved.domain_event(), None);
    }
}

//! The catalog's representations: what the endpoints read and write as JSON.

use crate::db::ids::ProductId;
use crate::error::FieldError;
use crate::products::{Money, Stocked};
use chrono::{DateTime, Utc};
use poem_openapi::Object;
use poem_openapi::types::Example;
use uuid::Uuid;

/// A price in integer minor units (cents) of an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(example)]
pub struct Price {
    /// Minor units, e.g. 1999 for 19.99.
    pub amount: i64,
    /// ISO 4217 code, e.g. `EUR`.
    #[oai(deserialize_with = "crate::rest::body::text")]
    pub currency: String,
}

impl Example for Price {
    fn example() -> Self {
        Price {
            amount: 1999,
            currency: "EUR".into(),
        }
    }
}

impl Price {
    pub fn parse(&self, pointer: &str) -> Result<Money, Vec<FieldError>> {
        Money::parse(self.amount, &self.currency, pointer)
    }
}

#[derive(Object)]
#[oai(example)]
pub struct Product {
    id: ProductId,
    sku: String,
    name: String,
    description: String,
    price: Price,
    active: bool,
    /// Units that can be bought now (on hand minus reserved).
    available: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Example for Product {
    fn example() -> Self {
        let at = DateTime::<Utc>::from_timestamp(1_764_000_000, 0).unwrap_or_default();
        Self {
            id: ProductId(Uuid::nil()),
            sku: "TEE-BLK-L".into(),
            name: "Black tee, L".into(),
            description: "Organic cotton.".into(),
            price: Price::example(),
            active: true,
            available: 42,
            created_at: at,
            updated_at: at,
        }
    }
}

impl From<Stocked> for Product {
    fn from(s: Stocked) -> Self {
        let p = s.product;
        Self {
            id: p.id,
            sku: p.sku.to_string(),
            name: p.name,
            description: p.description,
            price: Price {
                amount: p.price_amount,
                currency: p.currency.to_string(),
            },
            active: p.active,
            available: s.levels.available(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

crate::list_object!(pub ProductList of Product);

#[derive(Object)]
#[oai(example)]
pub struct CreateProductRequest {
    #[oai(deserialize_with = "crate::rest::body::text")]
    pub sku: String,
    #[oai(deserialize_with = "crate::rest::body::text")]
    pub name: String,
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub description: Option<String>,
    pub price: Price,
    /// Initial units on hand, 0–1,000,000,000 (default 0).
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub stock: Option<i64>,
}

impl Example for CreateProductRequest {
    fn example() -> Self {
        Self {
            sku: "TEE-BLK-L".into(),
            name: "Black tee, L".into(),
            description: None,
            price: Price::example(),
            stock: Some(100),
        }
    }
}

#[derive(Object)]
#[oai(example)]
pub struct UpdateProductRequest {
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub sku: Option<String>,
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub name: Option<String>,
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub description: Option<String>,
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub price: Option<Price>,
    #[oai(deserialize_with = "crate::rest::body::absent_or_value")]
    pub active: Option<bool>,
}

impl Example for UpdateProductRequest {
    fn example() -> Self {
        Self {
            sku: None,
            name: None,
            description: None,
            price: Some(Price {
                amount: 1799,
                currency: "EUR".into(),
            }),
            active: None,
        }
    }
}

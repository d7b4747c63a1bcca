//! Storage and rules for products. Public reads (`find_listed`, `list_listed`) are plain
//! functions of the connection so caching can wrap them.

use super::entity::{ActiveModel, Column, Entity as Products, Model};
use super::model::Price;
use crate::error::{ApiError, FieldError};
use crate::inventory::{self, Levels, Movement};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, SqlErr,
};
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum ProductsError {
    #[error("another product already uses this SKU")]
    SkuTaken,
    #[error("no such product")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<ProductsError> for ApiError {
    fn from(err: ProductsError) -> Self {
        match err {
            ProductsError::SkuTaken => ApiError::Conflict {
                detail: err.to_string(),
                errors: vec![FieldError::at("/sku", "is already taken")],
            },
            ProductsError::NotFound => ApiError::NotFound(err.to_string()),
            ProductsError::Db(e) => e.into(),
        }
    }
}

fn sku_clash(err: DbErr) -> ProductsError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ProductsError::SkuTaken,
        _ => ProductsError::Db(err),
    }
}

/// A product with its stock.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stocked {
    pub product: Model,
    pub levels: Levels,
}

pub struct NewProduct {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price: Price,
    pub stock: i64,
}

/// Creates the product, its inventory record and the opening ledger entry. Run in a
/// transaction.
pub async fn create(
    conn: &impl ConnectionTrait,
    new: NewProduct,
    actor: &str,
) -> Result<Stocked, ProductsError> {
    let now = Utc::now();
    let product = ActiveModel {
        id: Set(Uuid::now_v7()),
        sku: Set(new.sku),
        name: Set(new.name),
        description: Set(new.description),
        price_amount: Set(new.price.amount),
        currency: Set(new.price.currency),
        active: Set(true),
        archived_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
    .map_err(sku_clash)?;
    let levels = inventory::init(
        conn,
        product.id,
        new.stock,
        Movement::new("initial stock", actor),
    )
    .await?;
    Ok(Stocked { product, levels })
}

/// Any product that is not archived, by SKU (staff view).
pub async fn find(conn: &impl ConnectionTrait, sku: &str) -> Result<Option<Model>, DbErr> {
    Products::find()
        .filter(Column::Sku.eq(sku))
        .filter(Column::ArchivedAt.is_null())
        .one(conn)
        .await
}

/// An active product with its stock — the public read.
pub async fn find_listed(conn: &impl ConnectionTrait, sku: &str) -> Result<Option<Stocked>, DbErr> {
    let Some(product) = find(conn, sku).await?.filter(|p| p.active) else {
        return Ok(None);
    };
    let levels = inventory::levels(conn, product.id)
        .await?
        .unwrap_or(Levels {
            on_hand: 0,
            reserved: 0,
        });
    Ok(Some(Stocked { product, levels }))
}

/// Filters of the public product list, which is ordered by SKU.
#[derive(Debug, Default, Clone)]
pub struct ProductFilter {
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub currency: Option<String>,
    /// Only SKUs after this one (the cursor).
    pub after: Option<String>,
}

/// Active products matching `filter`, by SKU, with their stock.
pub async fn list_listed(
    conn: &impl ConnectionTrait,
    filter: ProductFilter,
    limit: u64,
) -> Result<Vec<Stocked>, DbErr> {
    let mut query = Products::find()
        .filter(Column::Active.eq(true))
        .filter(Column::ArchivedAt.is_null())
        .order_by_asc(Column::Sku)
        .limit(limit);
    if let Some(min) = filter.min_price {
        query = query.filter(Column::PriceAmount.gte(min));
    }
    if let Some(max) = filter.max_price {
        query = query.filter(Column::PriceAmount.lte(max));
    }
    if let Some(currency) = filter.currency {
        query = query.filter(Column::Currency.eq(currency));
    }
    if let Some(after) = filter.after {
        query = query.filter(Column::Sku.gt(after));
    }
    let products = query.all(conn).await?;
    let mut levels: HashMap<Uuid, Levels> =
        inventory::levels_of(conn, products.iter().map(|p| p.id).collect())
            .await?
            .into_iter()
            .collect();
    Ok(products
        .into_iter()
        .map(|product| {
            let levels = levels.remove(&product.id).unwrap_or(Levels {
                on_hand: 0,
                reserved: 0,
            });
            Stocked { product, levels }
        })
        .collect())
}

#[derive(Debug, Default)]
pub struct ProductChanges {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<Price>,
    pub active: Option<bool>,
}

pub async fn update(
    conn: &impl ConnectionTrait,
    sku: &str,
    changes: ProductChanges,
) -> Result<Model, ProductsError> {
    let product = find(conn, sku).await?.ok_or(ProductsError::NotFound)?;
    let version = product.version;
    let mut row: ActiveModel = product.into();
    if let Some(sku) = changes.sku {
        row.sku = Set(sku);
    }
    if let Some(name) = changes.name {
        row.name = Set(name);
    }
    if let Some(description) = changes.description {
        row.description = Set(description);
    }
    if let Some(price) = changes.price {
        row.price_amount = Set(price.amount);
        row.currency = Set(price.currency);
    }
    if let Some(active) = changes.active {
        row.active = Set(active);
    }
    row.version = Set(version + 1);
    row.updated_at = Set(Utc::now());
    row.update(conn).await.map_err(sku_clash)
}

/// Archives the product: it disappears from the API, its history stays, its SKU stays taken.
pub async fn archive(conn: &impl ConnectionTrait, sku: &str) -> Result<Model, ProductsError> {
    let product = find(conn, sku).await?.ok_or(ProductsError::NotFound)?;
    let version = product.version;
    let mut row: ActiveModel = product.into();
    row.archived_at = Set(Some(Utc::now()));
    row.active = Set(false);
    row.version = Set(version + 1);
    row.updated_at = Set(Utc::now());
    Ok(row.update(conn).await?)
}

/// SKUs among `skus` that already exist (seeding).
pub async fn existing_skus(
    conn: &impl ConnectionTrait,
    skus: Vec<String>,
) -> Result<Vec<String>, DbErr> {
    Ok(Products::find()
        .filter(Column::Sku.is_in(skus))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| p.sku)
        .collect())
}

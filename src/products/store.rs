//! The queries of products: plain functions of a connection, so the service picks the
//! pool and the transaction and the cache can wrap the public reads.

use super::entity::{ActiveModel, Column, Entity as Products, Model};
use super::error::ProductsError;
use super::model::{Money, Sku};
use crate::db::ids::ProductId;
use crate::db::{is_unique_violation, save_next_version};
use crate::inventory::entity::level;
use crate::inventory::{self, Levels, Movement};
use crate::rest::preconditions::IfMatch;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;

fn sku_clash(err: DbErr) -> ProductsError {
    if is_unique_violation(&err) {
        ProductsError::SkuTaken
    } else {
        ProductsError::Db(err)
    }
}

/// A product with its stock.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stocked {
    pub product: Model,
    pub levels: Levels,
}

pub struct NewProduct {
    pub sku: Sku,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub stock: i64,
}

/// Creates the product, its inventory record and the opening ledger entry. Run in a
/// transaction.
pub async fn insert(
    conn: &impl ConnectionTrait,
    new: NewProduct,
    actor: &str,
) -> Result<Stocked, ProductsError> {
    let now = Utc::now();
    let product = ActiveModel {
        id: Set(ProductId::generate()),
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
pub async fn find(conn: &impl ConnectionTrait, sku: &Sku) -> Result<Option<Model>, DbErr> {
    let found = Products::find()
        .filter(Column::Sku.eq(sku.as_str()))
        .filter(Column::ArchivedAt.is_null())
        .into_model();
    crate::db::unique(found, conn).await
}

/// An active product with its stock — the public read, in one round trip (a miss of the
/// cache, or every read with the cache off, costs one statement).
pub async fn find_listed(conn: &impl ConnectionTrait, sku: &Sku) -> Result<Option<Stocked>, DbErr> {
    let stock = Products::belongs_to(level::Entity)
        .from(Column::Id)
        .to(level::Column::ProductId)
        .into();
    let found = Products::find()
        .filter(Column::Sku.eq(sku.as_str()))
        .filter(Column::ArchivedAt.is_null())
        .filter(Column::Active.eq(true))
        .join(JoinType::LeftJoin, stock)
        .select_also(level::Entity)
        .into_model::<Model, level::Model>();
    let found = crate::db::unique(found, conn).await?;
    Ok(found.map(|(product, levels)| Stocked {
        product,
        levels: levels.map(Into::into).unwrap_or_default(),
    }))
}

/// Filters of the public product list, which is ordered by SKU.
#[derive(Debug, Default, Clone)]
pub struct ProductFilter {
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub currency: Option<String>,
}

impl ProductFilter {
    /// Whether the filter lets every product through (the cacheable list).
    pub fn is_empty(&self) -> bool {
        self.min_price.is_none() && self.max_price.is_none() && self.currency.is_none()
    }
}

/// Active products matching `filter`, by SKU after `after`, with their stock.
pub async fn list_listed(
    conn: &impl ConnectionTrait,
    filter: ProductFilter,
    after: Option<Sku>,
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
    if let Some(after) = after {
        query = query.filter(Column::Sku.gt(after));
    }
    with_stock(conn, query.all(conn).await?).await
}

/// Every product that is not archived, active or not, by SKU after `after`, with its
/// stock (the staff list).
pub async fn list_all(
    conn: &impl ConnectionTrait,
    after: Option<Sku>,
    limit: u64,
) -> Result<Vec<Stocked>, DbErr> {
    let mut query = Products::find()
        .filter(Column::ArchivedAt.is_null())
        .order_by_asc(Column::Sku)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(Column::Sku.gt(after));
    }
    with_stock(conn, query.all(conn).await?).await
}

/// `products` with their stock, read in one query.
async fn with_stock(
    conn: &impl ConnectionTrait,
    products: Vec<Model>,
) -> Result<Vec<Stocked>, DbErr> {
    let mut levels: HashMap<ProductId, Levels> =
        inventory::levels_of(conn, products.iter().map(|p| p.id).collect())
            .await?
            .into_iter()
            .collect();
    Ok(products
        .into_iter()
        .map(|product| {
            let levels = levels.remove(&product.id).unwrap_or_default();
            Stocked { product, levels }
        })
        .collect())
}

#[derive(Debug, Default)]
pub struct ProductChanges {
    pub sku: Option<Sku>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<Money>,
    pub active: Option<bool>,
}

/// The product at `sku`, if `if_match` allows a change to its current version (stock
/// levels aside: see `rest::preconditions`).
async fn find_for_change(
    conn: &impl ConnectionTrait,
    sku: &Sku,
    if_match: Option<&IfMatch>,
) -> Result<Model, ProductsError> {
    let product = find(conn, sku).await?.ok_or(ProductsError::NotFound)?;
    match if_match {
        Some(m) if !m.allows(&product.version_tag()) => Err(ProductsError::PreconditionFailed),
        _ => Ok(product),
    }
}

/// Saves `row`, read at `version`, unless another change saved first.
async fn save(
    conn: &impl ConnectionTrait,
    row: ActiveModel,
    version: i64,
    if_match: Option<&IfMatch>,
) -> Result<Model, ProductsError> {
    save_next_version(conn, row, version)
        .await
        .map_err(|e| ProductsError::saving(e, if_match.is_some()))
}

pub async fn update(
    conn: &impl ConnectionTrait,
    sku: &Sku,
    changes: ProductChanges,
    if_match: Option<&IfMatch>,
) -> Result<Model, ProductsError> {
    let product = find_for_change(conn, sku, if_match).await?;
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
    save(conn, row, version, if_match).await
}

/// Archives the product: it disappears from the API, its history stays, its SKU stays taken.
pub async fn archive(
    conn: &impl ConnectionTrait,
    sku: &Sku,
    if_match: Option<&IfMatch>,
) -> Result<Model, ProductsError> {
    let product = find_for_change(conn, sku, if_match).await?;
    let version = product.version;
    let mut row: ActiveModel = product.into();
    row.archived_at = Set(Some(Utc::now()));
    row.active = Set(false);
    save(conn, row, version, if_match).await
}

/// SKUs among `skus` that already exist (seeding).
pub async fn existing_skus(conn: &impl ConnectionTrait, skus: Vec<Sku>) -> Result<Vec<Sku>, DbErr> {
    Ok(Products::find()
        .filter(Column::Sku.is_in(skus))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| p.sku)
        .collect())
}

/// The products at `skus`, archived ones included (orders say why a SKU cannot be bought).
pub async fn find_many(conn: &impl ConnectionTrait, skus: Vec<Sku>) -> Result<Vec<Model>, DbErr> {
    Products::find()
        .filter(Column::Sku.is_in(skus))
        .all(conn)
        .await
}

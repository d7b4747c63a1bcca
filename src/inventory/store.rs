//! The reads of inventory: levels and the ledger, plain functions of a connection.

use super::entity::{ledger, level};
use super::model::Levels;
use crate::db::ids::ProductId;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// The stock of a product; `None` when it has no inventory record.
pub async fn levels(
    conn: &impl ConnectionTrait,
    product_id: ProductId,
) -> Result<Option<Levels>, DbErr> {
    let found = level::Entity::find_by_id(product_id).into_model::<level::Model>();
    Ok(crate::db::unique(found, conn).await?.map(Into::into))
}

/// Levels of many products at once (catalog pages).
pub async fn levels_of(
    conn: &impl ConnectionTrait,
    product_ids: Vec<ProductId>,
) -> Result<Vec<(ProductId, Levels)>, DbErr> {
    Ok(level::Entity::find()
        .filter(level::Column::ProductId.is_in(product_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.product_id, m.into()))
        .collect())
}

/// Ledger entries of a product, newest first, before the `before` id.
pub async fn ledger(
    conn: &impl ConnectionTrait,
    product_id: ProductId,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<ledger::Model>, DbErr> {
    let mut query = ledger::Entity::find()
        .filter(ledger::Column::ProductId.eq(product_id))
        .order_by_desc(ledger::Column::Id)
        .limit(limit);
    if let Some(before) = before {
        query = query.filter(ledger::Column::Id.lt(before));
    }
    query.all(conn).await
}

//! The `products` table.

use super::model::{Currency, Sku};
use crate::db::ids::ProductId;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ProductId,
    #[sea_orm(unique)]
    pub sku: Sku,
    pub name: String,
    pub description: String,
    pub price_amount: i64,
    pub currency: Currency,
    pub active: bool,
    /// Deleted products are archived, not removed: orders and the ledger refer to them.
    pub archived_at: Option<DateTimeUtc>,
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The part of the ETag that names this stored version; `If-Match` is checked against it.
    pub fn version_tag(&self) -> String {
        format!("product-{}-v{}", self.id, self.version)
    }
}

crate::versioned!(ActiveModel);

//! The `cache_invalidations` table.

use sea_orm::entity::prelude::*;

/// One invalidation message (a key, `*{namespace}` or `*`) appended by instance `origin`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cache_invalidations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub origin: i64,
    pub message: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

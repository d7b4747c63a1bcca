//! Cache invalidations through the database, for instances that share a database without
//! Redis: every write's invalidated key is appended here and each instance polls for the
//! rows other instances appended, so an L1 entry can live for the whole cache TTL.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum CacheInvalidations {
    Table,
    Id,
    Origin,
    Message,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CacheInvalidations::Table)
                    .col(
                        ColumnDef::new(CacheInvalidations::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(CacheInvalidations::Origin)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CacheInvalidations::Message)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CacheInvalidations::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("cache_invalidations_created_at")
                    .table(CacheInvalidations::Table)
                    .col(CacheInvalidations::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CacheInvalidations::Table).to_owned())
            .await
    }
}

//! Products, their inventory (on hand and reserved) and the inventory ledger from which
//! stock can always be reconciled. The database enforces that stock never goes negative
//! and never drops below what is reserved.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    Sku,
    Name,
    Description,
    PriceAmount,
    Currency,
    Active,
    ArchivedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Inventory {
    Table,
    ProductId,
    OnHand,
    Reserved,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InventoryLedger {
    Table,
    Id,
    ProductId,
    Kind,
    OnHandDelta,
    ReservedDelta,
    Reason,
    Actor,
    Reference,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(ColumnDef::new(Products::Id).uuid().not_null().primary_key())
                    .col(
                        ColumnDef::new(Products::Sku)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Products::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Products::Description).text().not_null())
                    .col(
                        ColumnDef::new(Products::PriceAmount)
                            .big_integer()
                            .not_null()
                            .check(Expr::col(Products::PriceAmount).gte(0)),
                    )
                    .col(ColumnDef::new(Products::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Products::Active).boolean().not_null())
                    .col(
                        ColumnDef::new(Products::ArchivedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Products::Version)
                            .big_integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Products::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Products::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_products_listed ON products (sku) WHERE active AND archived_at IS NULL",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Inventory::Table)
                    .col(
                        ColumnDef::new(Inventory::ProductId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Inventory::OnHand)
                            .big_integer()
                            .not_null()
                            .check(Expr::col(Inventory::OnHand).gte(0)),
                    )
                    .col(
                        ColumnDef::new(Inventory::Reserved)
                            .big_integer()
                            .not_null()
                            .check(Expr::col(Inventory::Reserved).gte(0)),
                    )
                    .col(
                        ColumnDef::new(Inventory::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .check(Expr::col(Inventory::OnHand).gte(Expr::col(Inventory::Reserved)))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Inventory::Table, Inventory::ProductId)
                            .to(Products::Table, Products::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InventoryLedger::Table)
                    .col(
                        ColumnDef::new(InventoryLedger::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(InventoryLedger::ProductId).uuid().not_null())
                    .col(
                        ColumnDef::new(InventoryLedger::Kind)
                            .string_len(16)
                            .not_null()
                            .check(Expr::col(InventoryLedger::Kind).is_in([
                                "adjustment",
                                "reserve",
                                "release",
                                "commit",
                            ])),
                    )
                    .col(
                        ColumnDef::new(InventoryLedger::OnHandDelta)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryLedger::ReservedDelta)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryLedger::Reason)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryLedger::Actor)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryLedger::Reference)
                            .string_len(100)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(InventoryLedger::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(InventoryLedger::Table, InventoryLedger::ProductId)
                            .to(Products::Table, Products::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_inventory_ledger_product")
                    .table(InventoryLedger::Table)
                    .col(InventoryLedger::ProductId)
                    .col(InventoryLedger::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            InventoryLedger::Table.into_iden(),
            Inventory::Table.into_iden(),
            Products::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

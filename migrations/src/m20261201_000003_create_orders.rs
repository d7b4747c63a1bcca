//! Orders, their lines (prices frozen when the order is placed) and the order event log:
//! every state transition, with the domain event it raised, appended in the transaction
//! that made it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    UserId,
    Status,
    Stock,
    Currency,
    TotalAmount,
    ShippingAddress,
    PaymentRef,
    ShipmentRef,
    Reason,
    DeadlineAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    OrderId,
    LineNo,
    ProductId,
    Sku,
    Quantity,
    UnitPrice,
}

#[derive(DeriveIden)]
enum OrderEvents {
    Table,
    Id,
    OrderId,
    FromStatus,
    ToStatus,
    Event,
    Detail,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
}

const STATUSES: [&str; 8] = [
    "pending",
    "reserved",
    "paid",
    "fulfilled",
    "completed",
    "rejected",
    "failed",
    "cancelled",
];

fn timestamp(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(ColumnDef::new(Orders::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Orders::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(Orders::Status)
                            .string_len(16)
                            .not_null()
                            .check(Expr::col(Orders::Status).is_in(STATUSES)),
                    )
                    .col(
                        ColumnDef::new(Orders::Stock)
                            .string_len(16)
                            .not_null()
                            .check(Expr::col(Orders::Stock).is_in([
                                "none",
                                "reserved",
                                "released",
                                "committed",
                            ])),
                    )
                    .col(ColumnDef::new(Orders::Currency).string_len(3).not_null())
                    .col(
                        ColumnDef::new(Orders::TotalAmount)
                            .big_integer()
                            .not_null()
                            .check(Expr::col(Orders::TotalAmount).gte(0)),
                    )
                    .col(ColumnDef::new(Orders::ShippingAddress).text().not_null())
                    .col(ColumnDef::new(Orders::PaymentRef).string_len(200).null())
                    .col(ColumnDef::new(Orders::ShipmentRef).string_len(200).null())
                    .col(ColumnDef::new(Orders::Reason).string_len(200).null())
                    .col(timestamp(Orders::DeadlineAt))
                    .col(timestamp(Orders::CreatedAt))
                    .col(timestamp(Orders::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Orders::Table, Orders::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, first) in [
            ("idx_orders_user", Orders::UserId),
            ("idx_orders_status", Orders::Status),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Orders::Table)
                        .col(first)
                        .col(Orders::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(OrderLines::Table)
                    .col(ColumnDef::new(OrderLines::OrderId).uuid().not_null())
                    .col(ColumnDef::new(OrderLines::LineNo).integer().not_null())
                    .col(ColumnDef::new(OrderLines::ProductId).uuid().not_null())
                    .col(ColumnDef::new(OrderLines::Sku).string_len(64).not_null())
                    .col(
                        ColumnDef::new(OrderLines::Quantity)
                            .big_integer()
                            .not_null()
                            .check(Expr::col(OrderLines::Quantity).gt(0)),
                    )
                    .col(
                        ColumnDef::new(OrderLines::UnitPrice)
                            .big_integer()
                            .not_null()
                            .check(Expr::col(OrderLines::UnitPrice).gte(0)),
                    )
                    .primary_key(
                        Index::create()
                            .col(OrderLines::OrderId)
                            .col(OrderLines::LineNo),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderLines::Table, OrderLines::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderLines::Table, OrderLines::ProductId)
                            .to(Products::Table, Products::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderEvents::Table)
                    .col(
                        ColumnDef::new(OrderEvents::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(OrderEvents::OrderId).uuid().not_null())
                    .col(
                        ColumnDef::new(OrderEvents::FromStatus)
                            .string_len(16)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(OrderEvents::ToStatus)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(OrderEvents::Event).string_len(32).null())
                    .col(ColumnDef::new(OrderEvents::Detail).string_len(200).null())
                    .col(timestamp(OrderEvents::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderEvents::Table, OrderEvents::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_order_events_order")
                    .table(OrderEvents::Table)
                    .col(OrderEvents::OrderId)
                    .col(OrderEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OrderEvents::Table.into_iden(),
            OrderLines::Table.into_iden(),
            Orders::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

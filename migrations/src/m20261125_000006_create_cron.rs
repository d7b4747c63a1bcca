//! Cron support: one leader per fleet (a lease row) enqueues each scheduled slot, and
//! every fired slot is recorded so a leader change can never fire it twice.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LeaderLeases {
    Table,
    Name,
    Holder,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum CronSlots {
    Table,
    Name,
    Slot,
    JobId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LeaderLeases::Table)
                    .col(
                        ColumnDef::new(LeaderLeases::Name)
                            .string_len(50)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(LeaderLeases::Holder)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LeaderLeases::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CronSlots::Table)
                    .col(ColumnDef::new(CronSlots::Name).string_len(100).not_null())
                    .col(
                        ColumnDef::new(CronSlots::Slot)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CronSlots::JobId).uuid().not_null())
                    .primary_key(Index::create().col(CronSlots::Name).col(CronSlots::Slot))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CronSlots::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(LeaderLeases::Table).to_owned())
            .await
    }
}

//! The latest statistics snapshot of every levee process, for the console's fleet view
//! when no Redis is configured (or while it is down): one row per process start, upserted
//! every `admin.publish_interval`, deleted once past `expires_at`. Times are Unix seconds.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InstanceSnapshots {
    Table,
    InstanceId,
    Role,
    TakenAt,
    ExpiresAt,
    Body,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InstanceSnapshots::Table)
                    .col(
                        ColumnDef::new(InstanceSnapshots::InstanceId)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(InstanceSnapshots::Role)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InstanceSnapshots::TakenAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InstanceSnapshots::ExpiresAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(InstanceSnapshots::Body).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("instance_snapshots_expires_at")
                    .table(InstanceSnapshots::Table)
                    .col(InstanceSnapshots::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InstanceSnapshots::Table).to_owned())
            .await
    }
}

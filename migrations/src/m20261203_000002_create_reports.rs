//! CSV reports generated in the background (`reports`) and their files, stored in the
//! database in chunks (`report_chunks`, deleted with their report), so every instance of
//! a fleet can serve a download.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Reports {
    Table,
    Id,
    Kind,
    FromAt,
    ToAt,
    RequestedBy,
    Status,
    Rows,
    Bytes,
    Error,
    CreatedAt,
    StartedAt,
    CompletedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum ReportChunks {
    Table,
    ReportId,
    Seq,
    Data,
}

fn timestamp(col: impl IntoIden, null: bool) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    def.timestamp_with_time_zone();
    if null { def.null() } else { def.not_null() }.to_owned()
}

fn counter(col: Reports) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .default(0)
        .check(Expr::col(col).gte(0))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Reports::Table)
                    .col(ColumnDef::new(Reports::Id).uuid().not_null().primary_key())
                    .col(
                        ColumnDef::new(Reports::Kind)
                            .string_len(16)
                            .not_null()
                            .check(Expr::col(Reports::Kind).is_in(["orders", "products", "users"])),
                    )
                    .col(timestamp(Reports::FromAt, true))
                    .col(timestamp(Reports::ToAt, true))
                    .col(
                        ColumnDef::new(Reports::RequestedBy)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Reports::Status)
                            .string_len(16)
                            .not_null()
                            .check(
                                Expr::col(Reports::Status)
                                    .is_in(["pending", "running", "done", "failed"]),
                            ),
                    )
                    .col(counter(Reports::Rows))
                    .col(counter(Reports::Bytes))
                    .col(ColumnDef::new(Reports::Error).string_len(500).null())
                    .col(timestamp(Reports::CreatedAt, false))
                    .col(timestamp(Reports::StartedAt, true))
                    .col(timestamp(Reports::CompletedAt, true))
                    .col(timestamp(Reports::ExpiresAt, false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_reports_expires_at")
                    .table(Reports::Table)
                    .col(Reports::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReportChunks::Table)
                    .col(ColumnDef::new(ReportChunks::ReportId).uuid().not_null())
                    .col(ColumnDef::new(ReportChunks::Seq).integer().not_null())
                    .col(ColumnDef::new(ReportChunks::Data).blob().not_null())
                    .primary_key(
                        Index::create()
                            .col(ReportChunks::ReportId)
                            .col(ReportChunks::Seq),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReportChunks::Table, ReportChunks::ReportId)
                            .to(Reports::Table, Reports::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [ReportChunks::Table.into_iden(), Reports::Table.into_iden()] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

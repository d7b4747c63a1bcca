//! Runs of the diagnostic `jobs.probe` job: one row per execution, so a crash test or an
//! operator can see which jobs ran and how often.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JobProbeRuns {
    Table,
    Id,
    JobId,
    Attempt,
    Worker,
    StartedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(JobProbeRuns::Table)
                    .col(
                        ColumnDef::new(JobProbeRuns::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(JobProbeRuns::JobId).uuid().not_null())
                    .col(ColumnDef::new(JobProbeRuns::Attempt).integer().not_null())
                    .col(
                        ColumnDef::new(JobProbeRuns::Worker)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(JobProbeRuns::StartedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_job_probe_runs_job_id")
                    .table(JobProbeRuns::Table)
                    .col(JobProbeRuns::JobId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(JobProbeRuns::Table).to_owned())
            .await
    }
}

//! Durable jobs: the queue lives in levee's own database, so a job can be enqueued in the
//! same transaction as the write that causes it, and nothing is lost when a process dies.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Queue,
    Payload,
    Priority,
    State,
    Attempt,
    MaxAttempts,
    RunAt,
    LeaseOwner,
    LeaseExpiresAt,
    Errors,
    UniqueKey,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let states = [
            "available",
            "scheduled",
            "running",
            "retryable",
            "completed",
            "dead",
            "cancelled",
        ];
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(ColumnDef::new(Jobs::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Jobs::Kind).string_len(100).not_null())
                    .col(ColumnDef::new(Jobs::Queue).string_len(50).not_null())
                    .col(ColumnDef::new(Jobs::Payload).text().not_null())
                    .col(
                        ColumnDef::new(Jobs::Priority)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Jobs::State)
                            .string_len(16)
                            .not_null()
                            .check(Expr::col(Jobs::State).is_in(states)),
                    )
                    .col(
                        ColumnDef::new(Jobs::Attempt)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Jobs::MaxAttempts).integer().not_null())
                    .col(
                        ColumnDef::new(Jobs::RunAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Jobs::LeaseOwner).string_len(100).null())
                    .col(
                        ColumnDef::new(Jobs::LeaseExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Jobs::Errors).text().not_null())
                    .col(ColumnDef::new(Jobs::UniqueKey).string_len(200).null())
                    .col(
                        ColumnDef::new(Jobs::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Jobs::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Jobs::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // Claiming scans only waiting jobs of one queue in priority/time order.
        db.execute_unprepared(
            "CREATE INDEX idx_jobs_claimable ON jobs (queue, priority DESC, run_at, id) \
             WHERE state IN ('available', 'scheduled', 'retryable')",
        )
        .await?;
        // A unique key blocks duplicates only while a job is pending or running.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_jobs_unique_pending ON jobs (unique_key) \
             WHERE unique_key IS NOT NULL AND state IN ('available', 'scheduled', 'running', 'retryable')",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_jobs_leases ON jobs (lease_expires_at) WHERE state = 'running'",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_jobs_state_finished")
                    .table(Jobs::Table)
                    .col(Jobs::State)
                    .col(Jobs::FinishedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Jobs::Table).to_owned())
            .await
    }
}

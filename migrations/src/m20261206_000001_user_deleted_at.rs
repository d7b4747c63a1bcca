//! Deleted accounts: `users.deleted_at` marks an account its owner or an admin deleted. The
//! row stays (orders keep their customer, anonymised) but the account is gone from every API
//! and can never be re-enabled.

use crate::columns;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    DeletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let deleted_at = ColumnDef::new(Users::DeletedAt)
            .timestamp_with_time_zone()
            .null()
            .to_owned();
        columns::add(manager, Users::Table, [deleted_at]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        columns::drop(manager, Users::Table, [Users::DeletedAt]).await
    }
}

//! Sessions of the admin console, in the database so that any instance of a fleet serves
//! them and operators can sign in while Redis is down. Only a SHA-256 of the session token
//! is stored; the CSRF secret signs the tokens of the session's forms.

use super::m20261125_000001_create_users::Users;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AdminSessions {
    Table,
    Id,
    TokenHash,
    UserId,
    CsrfSecret,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

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
                    .table(AdminSessions::Table)
                    .col(
                        ColumnDef::new(AdminSessions::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AdminSessions::TokenHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(AdminSessions::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(AdminSessions::CsrfSecret)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(timestamp(AdminSessions::CreatedAt))
                    .col(timestamp(AdminSessions::LastSeenAt))
                    .col(timestamp(AdminSessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AdminSessions::Table, AdminSessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("admin_sessions_expires_at")
                    .table(AdminSessions::Table)
                    .col(AdminSessions::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AdminSessions::Table).to_owned())
            .await
    }
}

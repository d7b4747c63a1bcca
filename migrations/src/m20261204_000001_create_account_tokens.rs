//! Account self-service: single-use tokens mailed to a user (password reset, email
//! verification; `change_email` is reserved for the email-change flow), stored only as
//! SHA-256 hashes, and when each user verified their address (existing accounts stay
//! unverified until they do).

use super::m20261125_000001_create_users::Users;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AccountTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

/// The new column of `users`.
#[derive(DeriveIden)]
enum Verified {
    EmailVerifiedAt,
}

fn timestamp(col: AccountTokens, null: bool) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    def.timestamp_with_time_zone();
    if null { def.null() } else { def.not_null() }.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccountTokens::Table)
                    .col(
                        ColumnDef::new(AccountTokens::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AccountTokens::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(AccountTokens::Purpose)
                            .string_len(16)
                            .not_null()
                            .check(Expr::col(AccountTokens::Purpose).is_in([
                                "password_reset",
                                "verify_email",
                                "change_email",
                            ])),
                    )
                    .col(
                        ColumnDef::new(AccountTokens::TokenHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(timestamp(AccountTokens::CreatedAt, false))
                    .col(timestamp(AccountTokens::ExpiresAt, false))
                    .col(timestamp(AccountTokens::UsedAt, true))
                    .col(timestamp(AccountTokens::RevokedAt, true))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AccountTokens::Table, AccountTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_account_tokens_user_purpose",
                vec![AccountTokens::UserId, AccountTokens::Purpose],
            ),
            ("idx_account_tokens_expires", vec![AccountTokens::ExpiresAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(AccountTokens::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Verified::EmailVerifiedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Verified::EmailVerifiedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(AccountTokens::Table).to_owned())
            .await
    }
}

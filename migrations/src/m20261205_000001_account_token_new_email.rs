//! Email change: a `change_email` token holds the address it confirms (`new_email`) and the
//! session (refresh family) that asked for the change, which stays signed in when the link
//! is used while every other session of the account is ended.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AccountTokens {
    Table,
    NewEmail,
    SessionId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one column per ALTER TABLE.
        for column in [
            ColumnDef::new(AccountTokens::NewEmail)
                .string_len(254)
                .null()
                .to_owned(),
            ColumnDef::new(AccountTokens::SessionId)
                .uuid()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AccountTokens::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [AccountTokens::NewEmail, AccountTokens::SessionId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AccountTokens::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

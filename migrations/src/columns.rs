//! Adding and dropping columns, one statement per column (SQLite's ALTER TABLE takes one),
//! for migrations that only add columns.

use sea_orm_migration::prelude::*;

/// Adds each of `columns` to `table`.
pub async fn add(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + Clone,
    columns: impl IntoIterator<Item = ColumnDef>,
) -> Result<(), DbErr> {
    for mut column in columns {
        let alter = Table::alter()
            .table(table.clone())
            .add_column(&mut column)
            .to_owned();
        manager.alter_table(alter).await?;
    }
    Ok(())
}

/// Drops each of `columns` from `table`.
pub async fn drop(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + Clone,
    columns: impl IntoIterator<Item = impl IntoIden>,
) -> Result<(), DbErr> {
    for column in columns {
        let alter = Table::alter()
            .table(table.clone())
            .drop_column(column)
            .to_owned();
        manager.alter_table(alter).await?;
    }
    Ok(())
}

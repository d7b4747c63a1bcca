//! `levee backup PATH` and `levee restore PATH` for the embedded SQLite database. On
//! PostgreSQL, backups belong to PostgreSQL's own tools: the command prints the recipe.

use super::{CliError, connect};
use crate::config::Config;
use crate::db::sqlite_file;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// File to write the copy to (must not exist yet).
    path: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// A file written by `levee backup`.
    path: PathBuf,
}

const POSTGRES_RECIPE: &str = "\
levee backs up SQLite only; on PostgreSQL use PostgreSQL's tools:
  logical dump:   pg_dump --format=custom --file=levee.dump \"$DATABASE_URL\"
  restore:        pg_restore --clean --if-exists --dbname=\"$DATABASE_URL\" levee.dump
  point in time:  continuous WAL archiving (archive_mode, archive_command) plus pg_basebackup;
                  see https://www.postgresql.org/docs/current/continuous-archiving.html";

/// The database file when `database.url` is SQLite; the recipe and an error otherwise.
fn sqlite_location(config: &Config, command: &str) -> Result<PathBuf, CliError> {
    match config.database.url.strip_prefix("sqlite:") {
        Some(location) => Ok(sqlite_file::path_of(location)),
        None => {
            println!("{POSTGRES_RECIPE}");
            Err(CliError::Invalid(format!(
                "{command}: database.url is PostgreSQL; use pg_dump/pg_restore or PITR (recipe above)"
            )))
        }
    }
}

pub async fn backup(config: Config, args: BackupArgs) -> Result<(), CliError> {
    sqlite_location(&config, "backup")?;
    let db = connect(&config).await?;
    let written = sqlite_file::backup(db.write().pool(), &args.path).await;
    db.close().await;
    let bytes = written.map_err(|e| match e {
        sqlite_file::SqliteFileError::Exists(_) => CliError::Invalid(e.to_string()),
        other => CliError::runtime(other),
    })?;
    println!("backup written to {} ({bytes} bytes)", args.path.display());
    Ok(())
}

pub async fn restore(config: Config, args: RestoreArgs) -> Result<(), CliError> {
    let database = sqlite_location(&config, "restore")?;
    sqlite_file::verify_backup(&args.path)
        .await
        .map_err(|e| CliError::Invalid(e.to_string()))?;
    let kept = sqlite_file::restore(&database, &args.path).map_err(CliError::runtime)?;
    println!(
        "restored {} from {}",
        database.display(),
        args.path.display()
    );
    if let Some(kept) = kept {
        println!("the database it replaced is kept as {}", kept.display());
    }
    println!(
        "pending migrations (if the backup is older) apply at the next `levee migrate up` or `levee serve`"
    );
    Ok(())
}

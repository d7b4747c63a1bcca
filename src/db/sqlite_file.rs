//! The embedded database as a file: every process that opens it holds a shared lock on
//! `<db>.lock` for its lifetime, so `levee restore` (which needs the exclusive lock) can
//! tell that a server or worker still uses it; online backups with `VACUUM INTO`; and
//! restoring a backup in place without ever leaving a half-written database.
//!
//! The lock is a separate file because closing any descriptor of the database file itself
//! would drop SQLite's own POSIX locks on it (docs/PITFALLS.md).

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Value};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Read;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SqliteFileError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} already exists; choose a new file (a backup never overwrites one)")]
    Exists(String),
    #[error("{0} is not a SQLite database")]
    NotSqlite(String),
    #[error("{path} is not a usable levee backup: {why}")]
    Unusable { path: String, why: String },
    #[error(
        "a levee process (serve, worker, …) is using {0}; stop it before restoring (nothing was changed)"
    )]
    InUse(String),
    #[error(transparent)]
    Query(#[from] DbErr),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SqliteFileError + '_ {
    move |source| SqliteFileError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The database file named by the part of `sqlite:PATH` after the scheme.
pub fn path_of(location: &str) -> PathBuf {
    PathBuf::from(location.strip_prefix("//").unwrap_or(location))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn open_lock(database: &Path) -> Result<File, SqliteFileError> {
    let path = with_suffix(database, ".lock");
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))
}

/// Held (shared) for as long as a process has the database open.
#[derive(Debug)]
pub struct Holder {
    _lock: File,
}

impl Holder {
    pub fn acquire(database: &Path) -> Result<Self, SqliteFileError> {
        let file = open_lock(database)?;
        file.lock_shared().map_err(io(database))?;
        Ok(Holder { _lock: file })
    }
}

/// Writes a consistent copy of the open database to `dest`, safe while others write: the
/// copy goes to `dest.partial` and is renamed into place only once complete.
pub async fn backup(conn: &DatabaseConnection, dest: &Path) -> Result<u64, SqliteFileError> {
    if dest.exists() {
        return Err(SqliteFileError::Exists(dest.display().to_string()));
    }
    let partial = with_suffix(dest, ".partial");
    let _ = std::fs::remove_file(&partial);
    let target = Value::from(partial.to_string_lossy().into_owned());
    let vacuum = sea_orm::Statement::from_sql_and_values(
        conn.get_database_backend(),
        "VACUUM INTO $1",
        vec![target],
    );
    if let Err(e) = conn.execute_raw(vacuum).await {
        let _ = std::fs::remove_file(&partial);
        return Err(e.into());
    }
    std::fs::rename(&partial, dest).map_err(io(dest))?;
    Ok(std::fs::metadata(dest).map_err(io(dest))?.len())
}

/// Checks that `backup` is an intact levee database (SQLite header, integrity check, a
/// migrations table), before anything in place is touched.
pub async fn verify_backup(backup: &Path) -> Result<(), SqliteFileError> {
    let shown = backup.display().to_string();
    let mut header = [0u8; 16];
    File::open(backup)
        .and_then(|mut f| f.read_exact(&mut header))
        .map_err(|_| SqliteFileError::NotSqlite(shown.clone()))?;
    if &header != b"SQLite format 3\0" {
        return Err(SqliteFileError::NotSqlite(shown));
    }
    let url = format!("sqlite:{}?mode=ro", backup.display());
    let conn = sea_orm::Database::connect(url).await?;
    let unusable = |why: String| SqliteFileError::Unusable {
        path: shown.clone(),
        why,
    };
    let check: Option<String> = scalar(&conn, "PRAGMA integrity_check").await?;
    if check.as_deref() != Some("ok") {
        return Err(unusable(format!("integrity check: {check:?}")));
    }
    let migrations: Option<i64> = scalar(
        &conn,
        "SELECT count(*) FROM sqlite_master WHERE name = 'seaql_migrations'",
    )
    .await?;
    conn.close().await?;
    if migrations != Some(1) {
        return Err(unusable("it has no seaql_migrations table".into()));
    }
    Ok(())
}

/// The first column of the first row `sql` answers.
async fn scalar<T: sea_orm::TryGetable>(
    conn: &DatabaseConnection,
    sql: &str,
) -> Result<Option<T>, DbErr> {
    let statement = sea_orm::Statement::from_string(conn.get_database_backend(), sql);
    conn.query_one_raw(statement)
        .await?
        .map(|row| row.try_get_by_index::<T>(0))
        .transpose()
}

/// Replaces `database` with a copy of `backup` while no process holds it. The database it
/// replaces (with its WAL, which may hold commits not yet in the main file) is kept beside
/// it as `<db>.replaced-<unix seconds>`; returns that path.
pub fn restore(database: &Path, backup: &Path) -> Result<Option<PathBuf>, SqliteFileError> {
    let lock = open_lock(database)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(SqliteFileError::InUse(database.display().to_string()));
        }
        Err(TryLockError::Error(e)) => return Err(io(database)(e)),
    }
    let incoming = with_suffix(database, ".restoring");
    std::fs::copy(backup, &incoming).map_err(io(&incoming))?;
    File::open(&incoming)
        .and_then(|f| f.sync_all())
        .map_err(io(&incoming))?;
    let kept = database.exists().then(|| {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        with_suffix(database, &format!(".replaced-{stamp}"))
    });
    if let Some(kept) = &kept {
        for suffix in ["-wal", "-shm", ""] {
            let from = with_suffix(database, suffix);
            if from.exists() {
                let to = with_suffix(kept, suffix);
                std::fs::rename(&from, &to).map_err(io(&from))?;
            }
        }
    }
    std::fs::rename(&incoming, database).map_err(io(database))?;
    Ok(kept)
}

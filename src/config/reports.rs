//! The `[reports]` section: how long generated CSV reports are kept, and the sizes that
//! keep their generation's memory flat (rows read per query, bytes per stored chunk).
//!
//! Report files live in the database (`report_chunks`), not in a directory: every instance
//! of a fleet serves any download, and backups, retention and deletion follow the
//! database. So there is no `reports.directory` key.

use super::{ConfigError, Duration, IntIn, Size};
use serde::{Deserialize, Serialize};

/// Smallest and largest accepted `reports.chunk_size`.
const CHUNK_MIN: u64 = 4 * 1024;
const CHUNK_MAX: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportsConfig {
    /// A report (and its file) is deleted this long after it was requested, by the
    /// `reports.prune` job (cron entry `prune-reports`); until then it can be downloaded.
    pub retention: Duration,
    /// A report's file is stored in the database in chunks of about this size (4KiB–16MiB);
    /// generation holds at most one chunk in memory, a download streams them one by one.
    pub chunk_size: Size,
    /// Rows read per query while a report is generated (keyset pagination by id).
    pub page_rows: IntIn<10, 100_000>,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        Self {
            retention: Duration::secs(7 * 24 * 3600),
            chunk_size: Size(256 * 1024),
            page_rows: IntIn::new(1000),
        }
    }
}

impl ReportsConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.retention.get() < std::time::Duration::from_secs(60) {
            return Err(ConfigError::key(
                "reports.retention",
                "expected a duration of at least \"1m\"",
            ));
        }
        if !(CHUNK_MIN..=CHUNK_MAX).contains(&self.chunk_size.bytes()) {
            return Err(ConfigError::key(
                "reports.chunk_size",
                "expected a size from \"4KiB\" to \"16MiB\"",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load::error_of;

    #[test]
    fn retention_and_chunk_size_are_checked_by_key() {
        let err = error_of("[reports]\nretention = \"10s\"");
        assert!(err.starts_with("reports.retention: expected"), "{err}");
        let err = error_of("[reports]\nchunk_size = \"1KiB\"");
        assert!(err.starts_with("reports.chunk_size: expected"), "{err}");
        let err = error_of("[reports]\nchunk_size = \"1GiB\"");
        assert!(err.starts_with("reports.chunk_size: expected"), "{err}");
    }
}

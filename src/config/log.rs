//! The `[log]` section: level, format, an optional file, and how much of the access log
//! to keep under load.

use super::{ConfigError, Duration};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `error`, `warn`, `info`, `debug`, `trace`, or a tracing filter; `RUST_LOG` wins.
    pub level: String,
    /// `auto` (pretty on a terminal, JSON otherwise), `json` or `pretty`.
    pub format: LogFormat,
    /// Also write JSON logs to this file, rotated daily.
    pub file: Option<PathBuf>,
    /// The share of successful, fast requests the access log records (0.0–1.0). Errors
    /// (5xx), 429s and requests slower than `slow_request` are always recorded.
    pub access_sample: f64,
    /// A request at least this slow is always in the access log.
    pub slow_request: Duration,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Auto,
            file: None,
            access_sample: 1.0,
            slow_request: Duration::secs(1),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Auto,
    Json,
    Pretty,
}

impl LogConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.level) {
            return Err(ConfigError::key(
                "log.level",
                format!(
                    "expected a level like \"info\" or a filter like \"levee=debug,info\" ({e})"
                ),
            ));
        }
        if !(0.0..=1.0).contains(&self.access_sample) {
            return Err(ConfigError::key(
                "log.access_sample",
                format!(
                    "expected a share from 0.0 to 1.0, got {}",
                    self.access_sample
                ),
            ));
        }
        Ok(())
    }
}

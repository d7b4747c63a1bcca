//! Reports: CSV exports of orders, products or users, requested with `POST /reports`
//! (202), generated in the background by a durable job (`generate`) and stored in the
//! database in chunks, so any instance of a fleet serves the download; they expire after
//! `reports.retention` and are pruned by the `reports.prune` job. Admins only, and API
//! keys with the `reports:read` scope.

pub mod api;
mod entity;
mod error;
mod generate;
mod model;
pub mod service;
mod sources;
mod store;

pub use entity::report::Model;
pub use error::ReportsError;
pub use generate::{GenerateReport, PruneReports, prune, register_jobs, register_series};
pub use model::{ReportStatus, ReportType, defused};
pub use sources::Window;

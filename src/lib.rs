//! levee: one binary serving a storefront and content API that survives traffic surges.
//! See README.md for the tour; each module's doc says what it owns.

pub mod accounts;
pub mod admin;
pub mod app;
pub mod auth;
pub mod build_info;
pub mod cache;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod inventory;
pub mod job_admin;
pub mod jobs;
pub mod mail;
pub mod orders;
pub mod posts;
pub mod products;
pub mod providers;
pub mod rate_limit;
pub mod redis_conn;
pub mod reports;
pub mod resilience;
pub mod rest;
pub mod state;
pub mod stats;
pub mod telemetry;
pub mod users;
pub mod validate;
pub mod webhooks;

pub use app::Application;
pub use config::Config;
pub use state::AppState;

/// Installs the process-wide rustls crypto provider. rustls panics at first use when more
/// than one provider is compiled in and none was chosen; call this before any TLS work.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

//! Test harness, one file per concern:
//! - `databases`: a fresh database per test (SQLite file or PostgreSQL clone of a migrated
//!   template), the `LEVEE_TEST_*` variables and skip notices;
//! - `app`: `TestApp`, the real application on a random port inside the test process;
//! - `processes`: `LeveeProcess`, the compiled binary for tests that need signals or stdout;
//! - `requests`: sending requests to a `TestApp`, accounts and sessions made through the API;
//! - `assertions`: RFC 9457 problem bodies;
//! - `console`: the admin console driven like a browser (forms, cookies, CSRF);
//! - `fake_provider`: a payment and shipping provider for the `http` kind on a loopback
//!   port, switchable between behaviours, logging every call;
//! - `jobs`: a test job kind, its handlers, enqueueing and waiting for job states;
//! - `orders`: products with stock, customers in bulk, orders placed and settled, and stock
//!   reconciled with its ledger;
//! - `reports`: products in bulk, reports polled until finished, CSV read back.
//! - `receiver`: a webhook receiver on a loopback port that records requests, answers from
//!   a script or hangs, and verifies signatures as the README's recipe does.

mod app;
mod assertions;
mod console;
mod databases;
pub mod fake_provider;
pub mod jobs;
pub mod orders;
mod processes;
pub mod receiver;
pub mod reports;
mod requests;

pub use app::{CHEAP_HASHING_TOML, TestApp, test_config};
pub use assertions::{header, pointers, problem};
pub use console::{console_cookie, csrf_field, metric_in, session_set_cookie, sign_in};
pub use databases::{
    Backend, DB_ENV, PGBOUNCER_ENV, REDIS_ENV, TestDb, count, env_url, skip, through,
};
pub use processes::{LeveeProcess, levee_command};
pub use requests::{PASSWORD, Session, unique_email};

/// Generates one `#[tokio::test]` per backend for each listed async fn taking a `Backend`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

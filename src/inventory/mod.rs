//! Stock levels and the reservation service orders use: reserve, release, commit, adjust —
//! each a single conditional UPDATE with a ledger row, so stock never oversells and always
//! reconciles.

pub mod api;
pub mod entity;
mod error;
mod model;
pub mod service;
mod store;

pub use error::StockError;
pub use model::{LedgerKind, Levels, MAX_STOCK, Movement};
pub use service::{adjust, commit, init, release, reserve};
pub use store::{ledger, levels, levels_of};

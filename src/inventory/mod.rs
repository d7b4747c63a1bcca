//! Stock levels and the reservation service orders use: reserve, release, commit, adjust —
//! each a single conditional UPDATE with a ledger row, so stock never oversells and always
//! reconciles.

pub mod api;
pub mod entity;
mod service;

pub use service::{
    Levels, Movement, StockError, adjust, commit, init, ledger, levels, levels_of, release, reserve,
};

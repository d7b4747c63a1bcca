//! Orders: checkout answered at once (202), then a durable saga — reserve stock, charge,
//! ship, confirm — with compensation when a step fails, and an event log of every
//! transition. Outside providers are reached through `crate::providers`.

pub mod api;
mod compensation;
pub mod entity;
mod error;
mod model;
mod placement;
mod privacy;
mod saga;
pub mod service;
mod steps;
mod store;

pub use error::OrdersError;
pub use model::{Address, OrderStatus, StockHold};
pub use placement::PlacementWriter;
pub use privacy::anonymise_customer;
pub use saga::{OrderStep, Saga, Step, register_jobs, register_series};
pub use store::{OrderFilter, Placed};

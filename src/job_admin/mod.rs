//! The operators' view of the durable job queue: list and inspect jobs, retry, cancel,
//! and replay the dead-letter queue of a kind. The queue itself (`crate::jobs`) knows
//! nothing of HTTP or permissions; this feature adds both.

pub mod api;
mod error;
pub mod service;

pub use error::JobAdminError;

//! Protection against a dependency that fails as a whole (a database server, later payment
//! and shipping providers): a circuit breaker that stops callers from queueing behind a
//! dependency that is down. Infrastructure: it knows no feature and no HTTP type; callers
//! decide what counts as a failure and how a rejection is answered.

mod breaker;

pub use breaker::{Breaker, BreakerMetrics, BreakerSettings, Permit, Rejected, State};

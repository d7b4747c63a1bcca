//! Protection against a dependency that fails as a whole (a database server, a payment or
//! shipping provider): circuit breakers that stop callers from queueing behind a dependency
//! that is down, bulkheads that bound the calls in flight to one, and per-call timeouts.
//! Infrastructure: it knows no feature and no HTTP type; callers decide what counts as a
//! failure and how a rejection is answered.

mod breaker;
mod bulkhead;
mod dependency;
mod outcomes;
mod state;

pub use breaker::{
    Breaker, BreakerMetrics, BreakerSettings, BreakerView, Permit, Rejected, State, Transition,
};
pub use bulkhead::Full;
pub use dependency::{CallError, Dependency, DependencySettings, DependencyView};

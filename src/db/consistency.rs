//! Per-request read routing. The HTTP layer runs each request inside [`route_reads`]:
//! a client reading its own writes gets the primary from every `Db::read()`, and the
//! cache answers it only with entries filled after its write.

use std::future::Future;

/// What a request's reads must observe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadRouting {
    /// Replicas and the cache serve as they are.
    Anywhere,
    /// A write request: every read goes to the primary, around the cache.
    Primary,
    /// The client wrote at this time (unix milliseconds): reads go to the primary, and a
    /// cached entry may answer only if it was filled after the write.
    OwnWritesAt(i64),
}

tokio::task_local! {
    static ROUTING: ReadRouting;
}

/// Runs a request's `work` with its reads routed by `routing`.
pub async fn route_reads<F: Future>(routing: ReadRouting, work: F) -> F::Output {
    ROUTING.scope(routing, work).await
}

/// The current task's routing; `Anywhere` outside a request (background work).
pub fn routing() -> ReadRouting {
    ROUTING
        .try_with(|routing| *routing)
        .unwrap_or(ReadRouting::Anywhere)
}

/// Whether the current task must read from the primary.
pub fn must_read_primary() -> bool {
    routing() != ReadRouting::Anywhere
}

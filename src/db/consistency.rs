//! Per-request read routing. The HTTP layer runs each request inside [`route_reads`]:
//! a client reading its own writes gets the primary from every `Db::read()` (and the
//! cache steps aside for it).

use std::future::Future;

tokio::task_local! {
    static OWN_WRITES: bool;
}

/// Runs a request's `work`; with `own_writes`, every read goes to the primary.
pub async fn route_reads<F: Future>(own_writes: bool, work: F) -> F::Output {
    OWN_WRITES.scope(own_writes, work).await
}

/// Whether the current task must read from the primary.
pub fn must_read_primary() -> bool {
    OWN_WRITES.try_with(|own| *own).unwrap_or(false)
}

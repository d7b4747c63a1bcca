//! Per-request read routing. The HTTP layer runs each request inside [`route_reads`]:
//! a client reading its own writes gets the primary from every `Db::read()`, and the
//! replica a request was given is remembered, so a connection failure on it takes the
//! replica out of rotation at once instead of at the next lag sample.

use super::replicas::Replicas;
use std::future::Future;
use std::sync::{Arc, Mutex};

struct ReadContext {
    own_writes: bool,
    replica: Mutex<Option<(Arc<Replicas>, usize)>>,
}

tokio::task_local! {
    static READS: ReadContext;
}

/// Runs a request's `work`; with `own_writes`, every read goes to the primary.
pub async fn route_reads<F: Future>(own_writes: bool, work: F) -> F::Output {
    let context = ReadContext {
        own_writes,
        replica: Mutex::new(None),
    };
    READS.scope(context, work).await
}

/// Whether the current task must read from the primary.
pub fn must_read_primary() -> bool {
    READS.try_with(|c| c.own_writes).unwrap_or(false)
}

/// Remembers that the current request reads from `replicas[index]`.
pub(super) fn reading_from(replicas: &Arc<Replicas>, index: usize) {
    let _ = READS.try_with(|c| {
        *c.replica.lock().unwrap_or_else(|e| e.into_inner()) = Some((replicas.clone(), index));
    });
}

/// A database connection failed during this request: if it was reading from a replica,
/// that replica leaves the rotation now (the lag monitor puts it back once it answers).
pub fn connection_failed() {
    let _ = READS.try_with(|c| {
        if let Some((replicas, index)) = c.replica.lock().unwrap_or_else(|e| e.into_inner()).take()
        {
            replicas.take_out(index);
        }
    });
}

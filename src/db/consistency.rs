//! Read-your-writes: while a task runs inside [`reading_own_writes`], its `Db::read()`
//! handles are the primary, so a client that has just written sees its write even when
//! the replicas have not replayed it yet.

use std::future::Future;

tokio::task_local! {
    static OWN_WRITES: ();
}

/// Runs `work` with every read on the primary.
pub async fn reading_own_writes<F: Future>(work: F) -> F::Output {
    OWN_WRITES.scope((), work).await
}

/// Whether the current task must read from the primary.
pub fn must_read_primary() -> bool {
    OWN_WRITES.try_with(|_| ()).is_ok()
}

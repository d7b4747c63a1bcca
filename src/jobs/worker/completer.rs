//! The completer: successful runs are marked completed in batches, one statement and one
//! commit for all that finished meanwhile, instead of one round trip each.

use super::{Completion, Workers};
use crate::db::ids::JobId;
use crate::jobs::store;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc};

impl Workers {
    /// Records completions in batches: whatever finished while the previous batch was
    /// being written goes in the next statement, so a busy worker commits once per batch
    /// and an idle one at once.
    pub(super) async fn complete(
        self: Arc<Self>,
        mut pending: mpsc::UnboundedReceiver<Completion>,
    ) {
        const MAX_BATCH: usize = 500;
        // A few batches in flight at once, so one slow commit does not stall the rest.
        let in_flight = Arc::new(Semaphore::new(4));
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let Ok(permit) = in_flight.clone().acquire_owned().await else {
                return;
            };
            let this = self.clone();
            let batch = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
            tokio::spawn(async move {
                let ids: Vec<JobId> = batch.iter().map(|(id, _)| *id).collect();
                let outcome = store::complete_many(&this.db, &ids, &this.owner).await;
                for (id, done) in batch {
                    let _ = done.send(match &outcome {
                        Ok(completed) => Ok(completed.contains(&id)),
                        Err(e) => Err(e.to_string()),
                    });
                }
                drop(permit);
            });
        }
    }
}

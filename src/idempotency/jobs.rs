//! The `idempotency.prune` job: keys past `idempotency.ttl` are deleted. Scheduled by the
//! built-in `prune-idempotency-keys` cron entry.

use crate::jobs::{JobKind, Outcome, Registry};

#[derive(serde::Serialize, serde::Deserialize)]
pub struct PruneKeys {}

impl JobKind for PruneKeys {
    const NAME: &'static str = "idempotency.prune";
}

pub fn register_jobs(registry: &mut Registry) {
    registry.register::<PruneKeys, _, _>(|_, ctx| async move {
        Outcome::of_pruning(super::prune(&ctx.db).await, "expired idempotency keys")
    });
}

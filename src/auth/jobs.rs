//! The `auth.prune` job: refresh tokens expired or revoked long ago are deleted. Scheduled
//! by the built-in `prune-auth` cron entry.

use super::refresh;
use crate::jobs::{JobKind, Outcome, Registry};

/// How long an expired or revoked refresh token is kept (to tell "expired" or "revoked"
/// from "unknown" when it is presented, and for inspection) before it is deleted.
const RETENTION: chrono::Duration = chrono::Duration::days(7);

#[derive(serde::Serialize, serde::Deserialize)]
pub struct PruneRefreshTokens {}

impl JobKind for PruneRefreshTokens {
    const NAME: &'static str = "auth.prune";
}

/// Registers the auth feature's job kinds.
pub fn register_jobs(registry: &mut Registry) {
    registry.register::<PruneRefreshTokens, _, _>(|_, ctx| async move {
        let deleted = refresh::prune(ctx.db.write(), RETENTION).await;
        Outcome::of_pruning(deleted, "expired and revoked refresh tokens")
    });
}

//! The feature's jobs: `accounts.password_reset` mails a reset link when (and only when)
//! the address belongs to an active account — in the background, so the request answers
//! alike for every address — and `accounts.prune` (cron entry `prune-account-tokens`)
//! deletes tokens a day after they stopped working.

use super::service::{self, Mailing};
use super::store;
use crate::jobs::{JobKind, Outcome, Registry};
use serde::{Deserialize, Serialize};

/// How long a token that stopped working is kept, so presenting it is refused with the
/// precise reason (used, expired, replaced) rather than "not valid".
const RETENTION: chrono::Duration = chrono::Duration::days(1);

/// A reset was asked for `email` (normalised); the handler decides whether to mail.
#[derive(Debug, Serialize, Deserialize)]
pub struct ResetRequested {
    pub email: String,
}

impl JobKind for ResetRequested {
    const NAME: &'static str = "accounts.password_reset";
    /// Beside the email it enqueues: a slow SMTP server cannot hold `default` slots.
    const QUEUE: &'static str = "mail";
}

#[derive(Serialize, Deserialize)]
pub struct PruneAccountTokens {}

impl JobKind for PruneAccountTokens {
    const NAME: &'static str = "accounts.prune";
}

/// Registers the feature's job kinds; `mailing` says how links and emails are made.
pub fn register_jobs(registry: &mut Registry, mailing: Mailing) {
    registry.register::<ResetRequested, _, _>(move |job, ctx| {
        let mailing = mailing.clone();
        async move {
            match service::send_reset(&ctx.db, &mailing, &job.email).await {
                Ok(()) => Outcome::Done,
                Err(e) => Outcome::Retry(e.to_string()),
            }
        }
    });
    registry.register::<super::AnonymiseAccount, _, _>(|job, ctx| async move {
        match super::deletion::anonymise(&ctx.db, job.user_id).await {
            Ok(()) => Outcome::Done,
            Err(e) => Outcome::Retry(e.to_string()),
        }
    });
    registry.register::<PruneAccountTokens, _, _>(|_, ctx| async move {
        let deleted = store::prune(ctx.db.write(), RETENTION).await;
        Outcome::of_pruning(deleted, "used, replaced and expired account tokens")
    });
}

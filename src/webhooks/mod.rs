//! Webhooks: admins register endpoints; posts, products and orders emit events in the
//! transaction of the change that causes them (`emit`); the `webhook.deliver` job POSTs
//! each event, signed (`Levee-Signature`), to every subscribed endpoint through the SSRF
//! guard (`client`), retrying on a schedule; endpoints failing for days are disabled.

pub mod api;
mod client;
mod deliver;
mod deliveries;
mod emit;
pub mod entity;
mod error;
mod model;
pub mod service;
mod store;

pub use deliver::Deliverer;
pub use emit::{Deliver, emit};
pub use error::WebhooksError;
pub use model::{AttemptOutcome, DeliveryStatus, EventType, sign};

use crate::config::WebhooksConfig;

use crate::jobs::{JobKind, Outcome, Registry};

/// Deletes events older than `webhooks.retention`, with their deliveries and attempts.
/// Scheduled by the built-in `prune-webhooks` cron entry.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct PruneWebhooks {}

impl JobKind for PruneWebhooks {
    const NAME: &'static str = "webhooks.prune";
}

/// Registers `webhook.deliver` and `webhooks.prune`.
pub fn register_jobs(
    registry: &mut Registry,
    config: &WebhooksConfig,
) -> Result<(), WebhooksError> {
    let deliverer = Deliverer::new(config)?;
    registry.register::<Deliver, _, _>(move |job, ctx| {
        let deliverer = deliverer.clone();
        async move { deliverer.run(job, ctx).await }
    });
    let retention =
        chrono::Duration::from_std(config.retention.get()).unwrap_or(chrono::Duration::MAX);
    registry.register::<PruneWebhooks, _, _>(move |_, ctx| async move {
        let before = chrono::Utc::now() - retention;
        Outcome::of_pruning(
            deliveries::prune(ctx.db.write(), before).await,
            "webhook events",
        )
    });
    Ok(())
}

/// Creates the delivery series at zero, so dashboards and alerts see them from the start.
pub fn register_series() {
    for outcome in [
        AttemptOutcome::Delivered,
        AttemptOutcome::Failed,
        AttemptOutcome::TimedOut,
        AttemptOutcome::Refused,
    ] {
        metrics::counter!("levee_webhook_deliveries_total", "outcome" => outcome.as_str())
            .increment(0);
    }
}

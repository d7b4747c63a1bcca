//! Making one attempt at a delivery — for the `webhook.deliver` job and for the
//! synchronous `ping` — and recording it: the attempt row, the delivery's state, the
//! endpoint's health (disabled, and admins told, once it has failed for
//! `webhooks.disable_after`), and the metrics.

use super::client::{Answer, Sender};
use super::emit::Deliver;
use super::entity::{delivery, endpoint, event};
use super::model::{AttemptOutcome, DeliveryStatus, signature_header};
use super::{deliveries, store};
use crate::config::WebhooksConfig;
use crate::db::Db;
use crate::jobs::{Enqueue, JobContext, JobQueue, Outcome};
use chrono::Utc;
use sea_orm::{ConnectionTrait, DbErr, TransactionTrait};

/// Delivers; cheap to clone.
#[derive(Clone)]
pub struct Deliverer {
    pub(super) sender: Sender,
    pub(super) config: WebhooksConfig,
}

/// A delivery with what it delivers and where.
pub struct Loaded {
    pub delivery: delivery::Model,
    pub event: event::Model,
    pub endpoint: endpoint::Model,
}

impl Deliverer {
    pub fn new(config: &WebhooksConfig) -> Result<Deliverer, reqwest::Error> {
        Ok(Deliverer {
            sender: Sender::new(config)?,
            config: config.clone(),
        })
    }

    /// The `webhook.deliver` handler: retried per `webhooks.retry_schedule`, then dead.
    pub async fn run(&self, job: Deliver, ctx: JobContext) -> Outcome {
        let result = async {
            let Some(loaded) = load(ctx.db.write(), job.delivery_id).await? else {
                return Ok(Outcome::Done);
            };
            if loaded.delivery.status == DeliveryStatus::Delivered {
                return Ok(Outcome::Done);
            }
            if !loaded.endpoint.enabled {
                deliveries::set_status(ctx.db.write(), loaded.delivery.id, DeliveryStatus::Dead)
                    .await?;
                return Ok(Outcome::Done);
            }
            let wait = usize::try_from(ctx.attempt - 1)
                .ok()
                .and_then(|i| self.config.retry_schedule.get(i))
                .map(|d| d.get());
            let failed = if wait.is_some() {
                DeliveryStatus::Retrying
            } else {
                DeliveryStatus::Dead
            };
            let answer = self.attempt(&ctx.db, &loaded, failed).await?;
            Ok::<_, DbErr>(match (answer.outcome, wait) {
                (AttemptOutcome::Delivered, _) => Outcome::Done,
                (_, Some(wait)) => Outcome::RetryIn(wait, describe(&answer)),
                (_, None) => Outcome::Fail(format!(
                    "dead after {} attempts: {}",
                    ctx.attempt,
                    describe(&answer)
                )),
            })
        };
        result
            .await
            .unwrap_or_else(|e| Outcome::Retry(e.to_string()))
    }

    /// Sends `loaded` once and records it; a failure leaves the delivery `failed`.
    #[tracing::instrument(skip_all, fields(webhook.delivery = %loaded.delivery.id, webhook.event = %loaded.event.id))]
    pub async fn attempt(
        &self,
        db: &Db,
        loaded: &Loaded,
        failed: DeliveryStatus,
    ) -> Result<Answer, DbErr> {
        let answer = self.send(&loaded.endpoint, &loaded.event).await;
        let outcome = answer.outcome;
        metrics::counter!("levee_webhook_deliveries_total", "outcome" => outcome.as_str())
            .increment(1);
        metrics::histogram!("levee_webhook_delivery_duration_seconds")
            .record(answer.latency.as_secs_f64());
        tracing::info!(
            outcome = outcome.as_str(),
            status = answer.status,
            "webhook attempt"
        );
        let delivered = outcome == AttemptOutcome::Delivered;
        let status = if delivered {
            DeliveryStatus::Delivered
        } else {
            failed
        };
        let txn = db.begin_write().await?;
        deliveries::record_attempt(&txn, &loaded.delivery, &answer, status).await?;
        let since = store::note_health(&txn, loaded.endpoint.id, delivered).await?;
        let limit = chrono::Duration::from_std(self.config.disable_after.get())
            .unwrap_or(chrono::Duration::MAX);
        if since.is_some_and(|since| Utc::now() - since >= limit) {
            disable_failing(&txn, &loaded.endpoint).await?;
        }
        txn.commit().await?;
        Ok(answer)
    }

    /// POSTs the event's payload to the endpoint, signed with every secret that signs now.
    async fn send(&self, endpoint: &endpoint::Model, event: &event::Model) -> Answer {
        let data: serde_json::Value =
            serde_json::from_str(&event.data).unwrap_or(serde_json::Value::Null);
        let payload = serde_json::json!({
            "id": event.id,
            "type": event.event_type,
            "created_at": event.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": data,
        });
        let body = payload.to_string().into_bytes();
        let now = Utc::now();
        let mut secrets = vec![endpoint.secret.as_str()];
        if let (Some(old), Some(until)) =
            (&endpoint.previous_secret, endpoint.previous_secret_until)
            && until > now
        {
            secrets.push(old);
        }
        let headers = [
            (
                "Levee-Signature",
                signature_header(&secrets, now.timestamp(), &body),
            ),
            ("Levee-Event-Id", event.id.to_string()),
            ("Levee-Event-Type", event.event_type.clone()),
        ];
        self.sender.post(&endpoint.url, &headers, body).await
    }
}

/// The delivery `id` with its event and endpoint, if all still exist.
pub async fn load(conn: &impl ConnectionTrait, id: uuid::Uuid) -> Result<Option<Loaded>, DbErr> {
    let Some(delivery) = deliveries::delivery(conn, id).await? else {
        return Ok(None);
    };
    let (Some(event), Some(endpoint)) = (
        deliveries::event(conn, delivery.event_id).await?,
        store::endpoint(conn, delivery.endpoint_id).await?,
    ) else {
        return Ok(None);
    };
    Ok(Some(Loaded {
        delivery,
        event,
        endpoint,
    }))
}

fn describe(answer: &Answer) -> String {
    answer
        .error
        .clone()
        .unwrap_or_else(|| answer.outcome.as_str().to_string())
}

/// Disables an endpoint that kept failing and emails every active admin, once.
async fn disable_failing<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    endpoint: &endpoint::Model,
) -> Result<(), DbErr> {
    let reason = "every delivery failed for webhooks.disable_after";
    if !store::disable(conn, endpoint.id, reason).await? {
        return Ok(());
    }
    tracing::warn!(webhook.endpoint = %endpoint.id, "webhook endpoint disabled after failing continuously");
    let endpoint_id = endpoint.id.to_string();
    let notice = crate::mail::webhook_disabled(crate::mail::WebhookDisabledText {
        endpoint_id: &endpoint_id,
        url: &endpoint.url,
        reason,
    })
    .map_err(|e| DbErr::Custom(format!("rendering the webhook-disabled email: {e}")))?;
    for to in store::active_admin_emails(conn).await? {
        let message = crate::mail::SendEmail {
            to,
            subject: notice.subject.clone(),
            text: notice.text.clone(),
            html: notice.html.clone(),
        };
        JobQueue::default()
            .enqueue(conn, &message, Enqueue::default())
            .await?;
    }
    Ok(())
}

//! The outside services orders depend on — a payment provider and a shipping provider —
//! behind traits, so the saga neither knows nor cares which implementation answers:
//! `simulated` (built in, for demos, tests and chaos drills) or `http` (JSON over HTTP to a
//! configured URL). Every call carries an idempotency key (order id + step), so a step
//! retried after a crash never charges or ships twice, and every call passes the
//! provider's guards (`resilience::Dependency`: circuit breaker, bulkhead, timeout).

mod http;
mod simulated;

use crate::config::{GuardConfig, ProviderConfig, ProviderKind, ProvidersConfig, ResilienceConfig};
use crate::resilience::{
    BreakerSettings, CallError, Dependency, DependencySettings, DependencyView, Rejected,
};
use std::sync::Arc;
use std::time::Duration;

/// How long a call turned away by a full bulkhead waits before it is asked again.
const BULKHEAD_RETRY: Duration = Duration::from_secs(1);

/// What a call asks of a provider. `key` is the idempotency key: the same key must get
/// the same outcome, and the provider acts at most once per key.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Call {
    #[serde(skip)]
    pub key: String,
    pub order_id: uuid::Uuid,
    pub amount: i64,
    pub currency: String,
    /// Shipments only: where to, as the customer gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<serde_json::Value>,
    /// Cancellations only: the shipment to cancel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// The provider's reference for what it did (a charge id, a tracking number).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Receipt {
    pub reference: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered and said no (card declined, address refused): retrying the
    /// same call gets the same answer, so the saga compensates.
    #[error("declined: {0}")]
    Declined(String),
    /// No usable answer (timeout, connection refused, 5xx): the call may be retried with
    /// the same key.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The call was not made — the provider's circuit breaker is open or its bulkhead
    /// full — and may be made after `retry_after`.
    #[error("not called: {reason}")]
    Deferred {
        reason: String,
        retry_after: Duration,
    },
}

/// Charges and refunds.
#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync {
    async fn charge(&self, call: &Call) -> Result<Receipt, ProviderError>;
    async fn refund(&self, call: &Call) -> Result<Receipt, ProviderError>;
}

/// Creates shipments, and cancels one that is no longer wanted.
#[async_trait::async_trait]
pub trait ShippingProvider: Send + Sync {
    async fn create_shipment(&self, call: &Call) -> Result<Receipt, ProviderError>;
    async fn cancel_shipment(&self, call: &Call) -> Result<Receipt, ProviderError>;
}

/// The configured providers, cheap to clone.
#[derive(Clone)]
pub struct Providers {
    pub payment: Arc<dyn PaymentProvider>,
    pub shipping: Arc<dyn ShippingProvider>,
    guards: [Arc<Dependency>; 2],
}

/// The implementation `kind` names, behind the provider's guards; each instance serves one
/// of the two traits.
struct Client {
    backend: Backend,
    guard: Arc<Dependency>,
}

enum Backend {
    Simulated(simulated::Simulated),
    Http(http::HttpProvider),
}

impl Client {
    fn new(
        config: &ProviderConfig,
        guard: &GuardConfig,
        name: &'static str,
    ) -> Result<Self, reqwest::Error> {
        let backend = match config.kind {
            ProviderKind::Simulated => Backend::Simulated(simulated::Simulated::new(config, name)),
            ProviderKind::Http => Backend::Http(http::HttpProvider::new(config)?),
        };
        let settings = DependencySettings {
            breaker: BreakerSettings {
                window: guard.window.get_u32(),
                minimum_calls: guard.minimum_calls.get_u32(),
                failure_rate: guard.failure_rate,
                open_for: guard.open_for.get(),
                half_open_calls: guard.half_open_calls.get_u32(),
            },
            max_concurrent: guard.max_concurrent.get_u32(),
            max_wait: guard.max_wait.get(),
            timeout: config.timeout.get(),
        };
        Ok(Self {
            backend,
            guard: Arc::new(Dependency::new(name, settings)),
        })
    }

    async fn call(&self, path: &'static str, call: &Call) -> Result<Receipt, ProviderError> {
        let answer = async {
            match &self.backend {
                Backend::Simulated(s) => s.call(path, call).await,
                Backend::Http(h) => h.call(path, call).await,
            }
        };
        // A refusal is an answer: only a provider that gives none counts against it.
        let unavailable = |e: &ProviderError| matches!(e, ProviderError::Unavailable(_));
        self.guard
            .call(answer, unavailable)
            .await
            .map_err(|e| match e {
                CallError::Rejected(r) => deferred(r),
                CallError::Full(full) => ProviderError::Deferred {
                    reason: full.to_string(),
                    retry_after: BULKHEAD_RETRY,
                },
                CallError::TimedOut(after) => {
                    ProviderError::Unavailable(format!("no answer within {after:?}"))
                }
                CallError::Failed(e) => e,
            })
    }
}

fn deferred(rejected: Rejected) -> ProviderError {
    ProviderError::Deferred {
        reason: rejected.to_string(),
        retry_after: rejected.retry_after,
    }
}

#[async_trait::async_trait]
impl PaymentProvider for Client {
    async fn charge(&self, call: &Call) -> Result<Receipt, ProviderError> {
        self.call("charges", call).await
    }

    async fn refund(&self, call: &Call) -> Result<Receipt, ProviderError> {
        self.call("refunds", call).await
    }
}

#[async_trait::async_trait]
impl ShippingProvider for Client {
    async fn create_shipment(&self, call: &Call) -> Result<Receipt, ProviderError> {
        self.call("shipments", call).await
    }

    async fn cancel_shipment(&self, call: &Call) -> Result<Receipt, ProviderError> {
        self.call("cancellations", call).await
    }
}

impl Providers {
    /// The providers `config` describes, guarded as `resilience` says.
    pub fn new(
        config: &ProvidersConfig,
        resilience: &ResilienceConfig,
    ) -> Result<Self, reqwest::Error> {
        let payment = Client::new(&config.payment, &resilience.payment(), "payment")?;
        let shipping = Client::new(&config.shipping, &resilience.shipping(), "shipping")?;
        Ok(Self {
            guards: [payment.guard.clone(), shipping.guard.clone()],
            payment: Arc::new(payment),
            shipping: Arc::new(shipping),
        })
    }

    /// While the payment provider's breaker is open, the error a charge gets now (counted
    /// as a rejected call): a step can wait without first noting a charge that would not
    /// be made.
    pub fn payment_deferred(&self) -> Option<ProviderError> {
        self.guards[0].reject_if_open().map(deferred)
    }

    /// Each provider's breaker and bulkhead as of now.
    pub fn guards(&self) -> Vec<DependencyView> {
        self.guards.iter().map(|g| g.view()).collect()
    }
}

//! The outside services orders depend on — a payment provider and a shipping provider —
//! behind traits, so the saga neither knows nor cares which implementation answers:
//! `simulated` (built in, for demos, tests and chaos drills) or `http` (JSON over HTTP to a
//! configured URL). Every call carries an idempotency key (order id + step), so a step
//! retried after a crash never charges or ships twice.

mod http;
mod simulated;

use crate::config::{ProviderConfig, ProviderKind, ProvidersConfig};
use std::sync::Arc;

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
}

/// Charges and refunds.
#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync {
    async fn charge(&self, call: &Call) -> Result<Receipt, ProviderError>;
    async fn refund(&self, call: &Call) -> Result<Receipt, ProviderError>;
}

/// Creates shipments.
#[async_trait::async_trait]
pub trait ShippingProvider: Send + Sync {
    async fn create_shipment(&self, call: &Call) -> Result<Receipt, ProviderError>;
}

/// The configured providers, cheap to clone.
#[derive(Clone)]
pub struct Providers {
    pub payment: Arc<dyn PaymentProvider>,
    pub shipping: Arc<dyn ShippingProvider>,
}

/// One implementation of both traits, chosen by `kind`; each instance serves one of them.
enum Client {
    Simulated(simulated::Simulated),
    Http(http::HttpProvider),
}

impl Client {
    fn new(config: &ProviderConfig, name: &'static str) -> Result<Self, reqwest::Error> {
        Ok(match config.kind {
            ProviderKind::Simulated => Client::Simulated(simulated::Simulated::new(config, name)),
            ProviderKind::Http => Client::Http(http::HttpProvider::new(config)?),
        })
    }

    async fn call(&self, path: &'static str, call: &Call) -> Result<Receipt, ProviderError> {
        match self {
            Client::Simulated(s) => s.call(path, call).await,
            Client::Http(h) => h.call(path, call).await,
        }
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
}

impl Providers {
    /// The providers `config` describes.
    pub fn new(config: &ProvidersConfig) -> Result<Self, reqwest::Error> {
        Ok(Self {
            payment: Arc::new(Client::new(&config.payment, "payment")?),
            shipping: Arc::new(Client::new(&config.shipping, "shipping")?),
        })
    }
}

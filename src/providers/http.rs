//! A provider reached over HTTP: `POST {url}/{charges|refunds|shipments|cancellations}`
//! with a JSON body and an `Idempotency-Key` header; a 2xx answer carries
//! `{"reference": "…"}`. A 4xx is a refusal (the same request would be refused again);
//! anything else — a 5xx, a timeout, a refused connection — leaves the call to be retried
//! with the same key.

use super::{Call, ProviderError, Receipt};
use crate::config::ProviderConfig;

/// The longest provider reference kept (the column's width).
const MAX_REFERENCE: usize = 200;

pub struct HttpProvider {
    client: reqwest::Client,
    base: String,
}

impl HttpProvider {
    pub fn new(config: &ProviderConfig) -> Result<Self, reqwest::Error> {
        // No timeout here: the provider's guard times every call out (`resilience`).
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            base: config
                .url
                .as_deref()
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string(),
        })
    }

    pub async fn call(&self, path: &str, call: &Call) -> Result<Receipt, ProviderError> {
        let unavailable = |e: reqwest::Error| ProviderError::Unavailable(e.to_string());
        let response = self
            .client
            .post(format!("{}/{path}", self.base))
            .header("Idempotency-Key", &call.key)
            .json(call)
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status();
        if status.is_client_error() {
            return Err(ProviderError::Declined(format!(
                "the provider answered {status}"
            )));
        }
        if !status.is_success() {
            return Err(ProviderError::Unavailable(format!(
                "the provider answered {status}"
            )));
        }
        let receipt = response.json::<Receipt>().await.map_err(unavailable)?;
        // The reference is stored with the order: bounded like every outside value.
        Ok(Receipt {
            reference: receipt.reference.chars().take(MAX_REFERENCE).collect(),
        })
    }
}

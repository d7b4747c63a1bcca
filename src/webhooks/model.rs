//! Webhook values: the event types, delivery states and attempt outcomes, endpoint URLs
//! as parsed at the edge, secrets, and the signature receivers verify.

use hmac::{Hmac, Mac};
use sha2::Sha256;

crate::stored_enum! {
    /// Where a delivery stands.
    pub enum DeliveryStatus {
        /// Waiting for its first attempt.
        Pending,
        /// Failed; another attempt is scheduled.
        Retrying,
        /// The endpoint answered 2xx.
        Delivered,
        /// Every retry failed (or the endpoint was disabled).
        Dead,
    }
}

crate::stored_enum! {
    /// How one attempt ended; also the `outcome` label of `levee_webhook_deliveries_total`.
    pub enum AttemptOutcome {
        /// 2xx.
        Delivered,
        /// Any other answer, or no connection.
        Failed,
        /// No answer within `webhooks.timeout`.
        TimedOut,
        /// Not attempted: the target is not allowed (private address, or not in
        /// `webhooks.allowed_hosts`).
        Refused,
    }
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        }
    }
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::TimedOut => "timed_out",
            AttemptOutcome::Refused => "refused",
        }
    }
}

/// The events levee emits. `ping` is sent only by `POST /webhook-endpoints/{id}/test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    PostPublished,
    ProductUpdated,
    OrderConfirmed,
    OrderCompleted,
    OrderFailed,
    OrderCancelled,
    Ping,
}

impl EventType {
    /// The types endpoints may subscribe to.
    pub const SUBSCRIBABLE: [EventType; 6] = [
        EventType::PostPublished,
        EventType::ProductUpdated,
        EventType::OrderConfirmed,
        EventType::OrderCompleted,
        EventType::OrderFailed,
        EventType::OrderCancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PostPublished => "post.published",
            EventType::ProductUpdated => "product.updated",
            EventType::OrderConfirmed => "order.confirmed",
            EventType::OrderCompleted => "order.completed",
            EventType::OrderFailed => "order.failed",
            EventType::OrderCancelled => "order.cancelled",
            EventType::Ping => "ping",
        }
    }

    /// A subscribable type by name.
    pub fn parse(name: &str) -> Option<EventType> {
        Self::SUBSCRIBABLE.into_iter().find(|t| t.as_str() == name)
    }
}

/// Longest endpoint URL and description.
pub const MAX_URL: usize = 2048;
pub const MAX_DESCRIPTION: usize = 500;

/// Why an endpoint URL is not accepted.
pub fn url_problem(raw: &str) -> Option<&'static str> {
    if raw.len() > MAX_URL {
        return Some("must be at most 2048 characters");
    }
    let Ok(url) = url::Url::parse(raw) else {
        return Some("must be an absolute http or https URL");
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Some("must be an absolute http or https URL");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Some("must not carry a user name or password");
    }
    None
}

/// A new signing secret: `whsec_` and 32 random bytes, base64url.
pub fn new_secret() -> String {
    format!("whsec_{}", crate::auth::secret::random_token(32))
}

/// HMAC-SHA256 of `{timestamp}.{body}` keyed with the secret's UTF-8 bytes, in hex.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `Levee-Signature` header: `t=<unix>,v1=<hex>` with one `v1` per signing secret.
pub fn signature_header(secrets: &[&str], timestamp: i64, body: &[u8]) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&sign(secret, timestamp, body));
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_documented_recipe() {
        // Computed with Python's hmac module, as the README's recipe does.
        let sig = sign("whsec_test", 1_700_000_000, b"{}");
        assert_eq!(
            sig,
            "35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
        let header = signature_header(&["a", "b"], 5, b"x");
        assert_eq!(header.matches(",v1=").count(), 2);
        assert!(header.starts_with("t=5,v1="));
    }

    #[test]
    fn endpoint_urls_are_http_without_credentials() {
        assert_eq!(url_problem("https://hooks.example.com/in"), None);
        assert!(url_problem("ftp://x.example/").is_some());
        assert!(url_problem("https://user:pw@x.example/").is_some());
        assert!(url_problem("not a url").is_some());
        assert!(url_problem(&format!("https://x.example/{}", "a".repeat(2100))).is_some());
    }

    #[test]
    fn only_known_types_can_be_subscribed() {
        assert_eq!(
            EventType::parse("order.failed"),
            Some(EventType::OrderFailed)
        );
        assert_eq!(EventType::parse("ping"), None);
        assert!(new_secret().starts_with("whsec_"));
    }
}

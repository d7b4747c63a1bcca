//! The one way deliveries reach the network, behind the SSRF guard: a host must be in
//! `webhooks.allowed_hosts` when that is set, and unless `webhooks.allow_private` every
//! address must be public — IP-literal hosts are checked here (resolvers never see them),
//! names by a resolver that drops non-public addresses, so the connection goes to an
//! address that was checked (no second lookup). No proxies, no redirects, one deadline
//! for the whole exchange, at most 64 KiB of the answer read.

use super::model::AttemptOutcome;
use crate::config::WebhooksConfig;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most of an answer's body that is read (and then dropped).
const MAX_ANSWER: usize = 64 * 1024;

/// A delivery that may not be made; its message names the reason.
#[derive(Debug, thiserror::Error)]
#[error("refused: {0}")]
pub struct Refused(pub String);

/// How one POST ended.
#[derive(Debug, Clone)]
pub struct Answer {
    pub outcome: AttemptOutcome,
    pub status: Option<u16>,
    pub latency: Duration,
    pub error: Option<String>,
}

/// Sends deliveries; cheap to clone.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allowed_hosts: Arc<[String]>,
    allow_private: bool,
}

impl Sender {
    pub fn new(config: &WebhooksConfig) -> Result<Sender, reqwest::Error> {
        let resolver = GuardedResolver {
            allow_private: config.allow_private,
        };
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(resolver))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout.get())
            .user_agent(concat!("levee-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Sender {
            client,
            allowed_hosts: config.allowed_hosts.clone().into(),
            allow_private: config.allow_private,
        })
    }

    /// Whether `url` may be delivered to, as far as can be told without resolving it.
    pub fn check(&self, url: &url::Url) -> Result<(), Refused> {
        check(&self.allowed_hosts, self.allow_private, url)
    }

    /// POSTs `body` with `headers` to `url` and reports how it went.
    pub async fn post(&self, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Answer {
        let started = Instant::now();
        let answer = |outcome, status, error: Option<String>| Answer {
            outcome,
            status,
            latency: started.elapsed(),
            error: error.map(|e| e.chars().take(300).collect()),
        };
        let checked = url::Url::parse(url)
            .map_err(|e| Refused(e.to_string()))
            .and_then(|u| self.check(&u).map(|()| u));
        let url = match checked {
            Ok(url) => url,
            Err(refused) => {
                return answer(AttemptOutcome::Refused, None, Some(refused.to_string()));
            }
        };
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let result = async {
            let mut response = request.body(body).send().await?;
            let status = response.status();
            let mut read = 0;
            while read < MAX_ANSWER
                && let Some(chunk) = response.chunk().await?
            {
                read += chunk.len();
            }
            Ok::<_, reqwest::Error>(status)
        }
        .await;
        match result {
            Ok(status) if status.is_success() => {
                answer(AttemptOutcome::Delivered, Some(status.as_u16()), None)
            }
            Ok(status) => answer(
                AttemptOutcome::Failed,
                Some(status.as_u16()),
                Some(format!("answered {status}")),
            ),
            Err(e) if e.is_timeout() => answer(
                AttemptOutcome::TimedOut,
                None,
                Some("no answer within webhooks.timeout".into()),
            ),
            Err(e) => match refusal_in(&e) {
                Some(reason) => answer(AttemptOutcome::Refused, None, Some(reason)),
                None => answer(AttemptOutcome::Failed, None, Some(error_chain(&e))),
            },
        }
    }
}

/// Whether `url` may be delivered to under `allowed_hosts` and `allow_private`, as far as
/// can be told without resolving it (IP-literal hosts are checked here).
pub fn check(allowed_hosts: &[String], allow_private: bool, url: &url::Url) -> Result<(), Refused> {
    let host = url.host_str().unwrap_or_default();
    if !allowed_hosts.is_empty() && !allowed_hosts.iter().any(|h| h == host) {
        return Err(Refused(format!("{host} is not in webhooks.allowed_hosts")));
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return Ok(()),
    };
    if allow_private || is_public(ip) {
        Ok(())
    } else {
        Err(Refused(format!("{ip} is not a public address")))
    }
}

/// The resolver's refusal somewhere in `err`'s chain.
fn refusal_in(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused.to_string());
        }
        current = e.source();
    }
    None
}

/// `err` and its causes, innermost last (reqwest's own message is only "error sending
/// request").
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut current = err.source();
    while let Some(e) = current {
        text.push_str(": ");
        text.push_str(&e.to_string());
        current = e.source();
    }
    text
}

/// Resolves names, keeping only the addresses deliveries may reach.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if found.is_empty() {
                let refused = Refused(format!("{host} resolves to no public address"));
                return Err(Box::new(refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is a public unicast address (not private, loopback, link-local, shared,
/// documentation, multicast or otherwise reserved).
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b))
                || (a == 192 && b == 0 && v4.octets()[2] == 0))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0
                || (first == 0x2001 && v6.segments()[1] == 0x0db8)
                || (first == 0x0064 && v6.segments()[1] == 0xff9b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
    }
}

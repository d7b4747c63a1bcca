//! `Receiver`: a webhook receiver on a loopback port. It records every request (headers and
//! body) and answers from a script — e.g. 500 then 200 — then with its default reply; it can
//! also hang (never answer), to run a delivery into its deadline. `configure` points a
//! test config at it: loopback allowed, only its host reachable, tiny retry waits.
//!
//! `verify` checks a `Levee-Signature` the way the README tells receivers to, written
//! here independently of levee's signer.

use hmac::{Hmac, Mac};
use levee::config::{Config, Duration as ConfigDuration};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{EndpointExt, Request, Response, Route, Server, handler};
use sha2::Sha256;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Status(u16),
    /// 204 after this long: deliveries stay in flight meanwhile.
    Slow(Duration),
    /// Holds the request open and never answers.
    Hang,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub signature: String,
    pub event_id: String,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// A running receiver; see the module doc.
pub struct Receiver {
    pub url: String,
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
    log: Mutex<Vec<Received>>,
}

impl Receiver {
    /// Starts on a free loopback port, answering 204.
    pub async fn start() -> Arc<Receiver> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let receiver = Arc::new(Receiver {
            url: format!("http://{addr}/hooks"),
            script: Mutex::default(),
            default: Mutex::new(Reply::Status(204)),
            log: Mutex::default(),
        });
        let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).expect("acceptor");
        let app = Route::new().at("/*path", receive).data(receiver.clone());
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        receiver
    }

    /// Answers the next requests with `replies`, in order, then with the default.
    pub fn script(&self, replies: &[Reply]) {
        self.script.lock().expect("lock").extend(replies);
    }

    pub fn set_default(&self, reply: Reply) {
        *self.default.lock().expect("lock") = reply;
    }

    pub fn received(&self) -> Vec<Received> {
        self.log.lock().expect("lock").clone()
    }

    /// The requests once there are at least `n`; panics after `limit`.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < limit,
                "the receiver got {} requests, not {n}, within {limit:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// A test app configured by `configure`, then by `tweak`.
    pub async fn app(
        &self,
        backend: super::Backend,
        tweak: impl FnOnce(&mut Config),
    ) -> Option<super::TestApp> {
        let both = |c: &mut Config| {
            self.configure(c);
            tweak(c);
        };
        super::TestApp::spawn_with(backend, both, None).await
    }

    /// Deliveries may reach this receiver (and nothing else), fast, with waits of 100 ms
    /// between retries.
    pub fn configure(&self, config: &mut Config) {
        config.webhooks.allow_private = true;
        config.webhooks.allowed_hosts = vec!["127.0.0.1".into()];
        config.webhooks.timeout = ConfigDuration::secs(2);
        config.webhooks.retry_schedule = vec![ConfigDuration::millis(100); 3];
        config.jobs.poll_interval = ConfigDuration::millis(50);
    }
}

#[handler]
async fn receive(req: &Request, body: poem::Body, receiver: Data<&Arc<Receiver>>) -> Response {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let received = Received {
        signature: header("levee-signature"),
        event_id: header("levee-event-id"),
        body: body.into_vec().await.unwrap_or_default(),
        at: Instant::now(),
    };
    receiver.log.lock().expect("lock").push(received);
    let next = receiver.script.lock().expect("lock").pop_front();
    let reply = next.unwrap_or_else(|| *receiver.default.lock().expect("lock"));
    match reply {
        Reply::Status(code) => Response::builder()
            .status(StatusCode::from_u16(code).expect("status"))
            .finish(),
        Reply::Slow(delay) => {
            tokio::time::sleep(delay).await;
            Response::builder().status(StatusCode::NO_CONTENT).finish()
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Response::builder().finish()
        }
    }
}

/// The README's recipe: split `t=…,v1=…[,v1=…]`, reject a timestamp more than 5 minutes
/// old, and accept when any `v1` equals HMAC-SHA256(secret, "{t}.{body}") in hex, compared
/// in constant time.
pub fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => candidates.push(v.to_string()),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    if (chrono::Utc::now().timestamp() - timestamp).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    candidates.iter().any(|c| {
        use subtle::ConstantTimeEq;
        c.len() == expected.len() && bool::from(c.as_bytes().ct_eq(expected.as_bytes()))
    })
}

impl super::TestApp {
    /// `POST /webhook-endpoints` with `body` as `token`.
    pub async fn create_webhook(&self, token: &str, body: serde_json::Value) -> reqwest::Response {
        self.send_as(
            reqwest::Method::POST,
            "/webhook-endpoints",
            token,
            Some(body),
        )
        .await
    }

    /// Registers an endpoint for `types` at `url`; its JSON, secret included.
    pub async fn register_webhook(
        &self,
        token: &str,
        url: &str,
        types: &[&str],
    ) -> serde_json::Value {
        let body = serde_json::json!({"url": url, "event_types": types, "description": "test"});
        let resp = self.create_webhook(token, body).await;
        assert_eq!(resp.status(), 201);
        resp.json().await.expect("json")
    }

    /// What `POST /webhook-endpoints/{id}/test` answered (200).
    pub async fn ping_webhook(&self, token: &str, id: &str) -> serde_json::Value {
        let path = format!("/webhook-endpoints/{id}/test");
        let resp = self
            .send_as(reqwest::Method::POST, &path, token, None)
            .await;
        assert_eq!(resp.status(), 200);
        resp.json().await.expect("json")
    }

    /// The endpoint's latest attempts, newest first.
    pub async fn webhook_attempts(&self, token: &str, id: &str) -> Vec<serde_json::Value> {
        let path = format!("/webhook-endpoints/{id}/deliveries");
        let body: serde_json::Value = self.get_as(&path, token).await.json().await.expect("json");
        body["items"].as_array().expect("items").clone()
    }
}

//! `FakeProvider`: a payment and shipping provider on a loopback port for levee's `http`
//! provider kind (`POST {url}/charges|refunds|shipments|cancellations`, JSON body, `Idempotency-Key`
//! header; 2xx `{"reference": …}`, 4xx declined, 5xx or timeout unavailable).
//!
//! It keeps its answers like a real provider: the first call with a key that is decided
//! (accepted or declined) fixes the answer, and later calls with that key replay it. A call
//! "acts" when it is the first to be accepted for its key — the charge taken, the parcel
//! sent — so one key acts at most once by construction. What the fake guards against is
//! therefore seen in the call log: raw calls per key, and keys per order
//! (`calls_for_order`), e.g. an order charged under two different keys.
//!
//! Its behaviour switches at runtime, for every action or for one (`set_mode`,
//! `set_mode_of`).
//!
//! ```ignore
//! let fake = FakeProvider::start().await;
//! fake.set_mode(Mode::Slow(Duration::from_millis(300)));
//! let app = TestApp::spawn_with(backend, |c| fake.configure(c), None).await?;
//! ```

use levee::config::{Config, ProviderKind};
use poem::http::StatusCode;
use poem::web::{Data, Json, Path};
use poem::{EndpointExt, Request, Response, Route, Server, handler, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// What the fake does with a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Decides (accepts, or replays the key's answer) and answers at once.
    Normal,
    /// Decides at once and answers after the delay: a caller that gives up or dies
    /// meanwhile has been charged without learning it.
    Slow(Duration),
    /// 503 without deciding: the provider is down.
    Failing,
    /// 503 to the first call of each key, then `Normal`: a provider with hiccups.
    FailingFirst,
    /// Neither decides nor answers: the call outlasts any client timeout.
    Hanging,
    /// Declines (422) a key not decided yet; a decided key replays its answer.
    Declining,
}

/// What levee asks of a provider (the last segment of the path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Charges,
    Refunds,
    Shipments,
    Cancellations,
}

impl Action {
    fn parse(segment: &str) -> Option<Action> {
        match segment {
            "charges" => Some(Action::Charges),
            "refunds" => Some(Action::Refunds),
            "shipments" => Some(Action::Shipments),
            "cancellations" => Some(Action::Cancellations),
            _ => None,
        }
    }
}

/// One call the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    /// The path called, e.g. `/pay/charges`.
    pub path: String,
    pub action: Action,
    /// The `Idempotency-Key` header (empty when missing).
    pub key: String,
    /// The body's `order_id`, which levee sends with every call.
    pub order_id: Option<Uuid>,
    pub body: Value,
    pub at: Instant,
    /// The status answered; `None` while it is being held (`Slow`) or for ever (`Hanging`).
    pub status: Option<u16>,
    /// This call was the first accepted for its key: the provider did something.
    pub acted: bool,
}

#[derive(Default)]
struct Log {
    calls: Vec<Call>,
    /// The answer fixed for each decided key.
    answers: HashMap<String, StatusCode>,
}

/// A running fake provider; see the module doc.
pub struct FakeProvider {
    base: String,
    modes: Mutex<HashMap<Action, Mode>>,
    log: Mutex<Log>,
}

impl FakeProvider {
    /// Starts the fake on a free loopback port, every action `Normal`.
    pub async fn start() -> Arc<FakeProvider> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let fake = Arc::new(FakeProvider {
            base: format!("http://{addr}"),
            modes: Mutex::default(),
            log: Mutex::default(),
        });
        let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).expect("acceptor");
        let app = Route::new()
            .at("/:provider/:action", post(answer))
            .data(fake.clone());
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        fake
    }

    /// Points both of `config`'s providers at the fake (payment under `/pay`, shipping
    /// under `/ship`).
    pub fn configure(&self, config: &mut Config) {
        config.providers.payment.kind = ProviderKind::Http;
        config.providers.payment.url = Some(format!("{}/pay", self.base));
        config.providers.shipping.kind = ProviderKind::Http;
        config.providers.shipping.url = Some(format!("{}/ship", self.base));
    }

    /// The fake's address with `path` appended (`http://127.0.0.1:port/pay`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The same as `configure`, as TOML for a `levee` process's config file.
    pub fn toml(&self) -> String {
        let base = &self.base;
        format!(
            "[providers.payment]\nkind = \"http\"\nurl = \"{base}/pay\"\n\
             [providers.shipping]\nkind = \"http\"\nurl = \"{base}/ship\"\n"
        )
    }

    /// Switches every action to `mode`.
    pub fn set_mode(&self, mode: Mode) {
        let mut modes = self.modes.lock().expect("modes");
        for action in [
            Action::Charges,
            Action::Refunds,
            Action::Shipments,
            Action::Cancellations,
        ] {
            modes.insert(action, mode);
        }
    }

    /// Switches one action to `mode`.
    pub fn set_mode_of(&self, action: Action, mode: Mode) {
        self.modes.lock().expect("modes").insert(action, mode);
    }

    /// Every call so far, in order of arrival.
    pub fn calls(&self) -> Vec<Call> {
        self.log.lock().expect("log").calls.clone()
    }

    /// The calls whose body names `order`, in order of arrival.
    pub fn calls_for_order(&self, order: Uuid) -> Vec<Call> {
        let log = self.log.lock().expect("log");
        let calls = log.calls.iter().filter(|c| c.order_id == Some(order));
        calls.cloned().collect()
    }

    /// How many calls each key got: more than one means the caller retried it.
    pub fn calls_per_key(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for call in &self.log.lock().expect("log").calls {
            *counts.entry(call.key.clone()).or_default() += 1;
        }
        counts
    }

    fn mode_of(&self, action: Action) -> Mode {
        let modes = self.modes.lock().expect("modes");
        modes.get(&action).copied().unwrap_or(Mode::Normal)
    }

    /// Logs the call and settles its answer under `mode`; returns the answer (`None`:
    /// hang) and the call's place in the log.
    fn receive(&self, mode: Mode, call: Call) -> (Option<StatusCode>, usize) {
        let key = call.key.clone();
        let mut log = self.log.lock().expect("log");
        let seen = log.calls.iter().any(|c| c.key == key);
        let decided = log.answers.get(&key).copied();
        let (status, acted) = match (mode, decided) {
            (Mode::Hanging, _) => (None, false),
            (Mode::Failing, _) => (Some(StatusCode::SERVICE_UNAVAILABLE), false),
            (Mode::FailingFirst, _) if !seen => (Some(StatusCode::SERVICE_UNAVAILABLE), false),
            (_, Some(fixed)) => (Some(fixed), false),
            (Mode::Declining, None) => (Some(StatusCode::UNPROCESSABLE_ENTITY), false),
            (_, None) => (Some(StatusCode::OK), true),
        };
        let decision = status.filter(|s| s.is_success() || s.is_client_error());
        if let (Some(fixed), None) = (decision, decided) {
            log.answers.insert(key.clone(), fixed);
        }
        log.calls.push(Call { acted, ..call });
        (status, log.calls.len() - 1)
    }

    fn answered(&self, index: usize, status: StatusCode) {
        self.log.lock().expect("log").calls[index].status = Some(status.as_u16());
    }
}

#[handler]
async fn answer(
    req: &Request,
    Path((provider, action)): Path<(String, String)>,
    Json(body): Json<Value>,
    fake: Data<&Arc<FakeProvider>>,
) -> Response {
    let Some(parsed) = Action::parse(&action) else {
        return StatusCode::NOT_FOUND.into();
    };
    let key = req
        .header("idempotency-key")
        .unwrap_or_default()
        .to_string();
    let reference = format!("fake-{key}");
    let call = Call {
        path: format!("/{provider}/{action}"),
        action: parsed,
        key,
        order_id: body["order_id"].as_str().and_then(|id| id.parse().ok()),
        body,
        at: Instant::now(),
        status: None,
        acted: false,
    };
    let mode = fake.mode_of(parsed);
    let (status, index) = fake.receive(mode, call);
    let Some(status) = status else {
        return std::future::pending().await;
    };
    if let Mode::Slow(delay) = mode {
        tokio::time::sleep(delay).await;
    }
    fake.answered(index, status);
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(json!({"reference": reference}).to_string())
}

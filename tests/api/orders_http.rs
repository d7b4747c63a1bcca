//! The `http` provider kind against a local fake provider: every call carries the
//! idempotency key `<order id>:<step>`, a 5xx is retried with the same key, and a refused
//! shipment is compensated by a refund (same scheme) and the stock's release.

use crate::backend_tests;
use crate::helpers::orders::{basket, eventually, for_orders, product, reconciled_stock};
use crate::helpers::{Backend, TestApp};
use levee::config::ProviderKind;
use poem::http::StatusCode;
use poem::web::{Data, Json, Path};
use poem::{EndpointExt, Request, Response, Route, Server, handler, post};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the fake provider saw, and how it behaves.
#[derive(Default)]
struct Fake {
    /// `(path, idempotency key, body)` of every call, in order.
    calls: Mutex<Vec<(String, String, Value)>>,
    /// Keys already answered once: the first charge of each order gets a 503.
    seen: Mutex<HashSet<String>>,
    refuse_shipments: AtomicBool,
}

#[handler]
fn call(
    req: &Request,
    Path((provider, action)): Path<(String, String)>,
    body: Json<Value>,
    fake: Data<&Arc<Fake>>,
) -> Response {
    let key = req
        .header("idempotency-key")
        .unwrap_or_default()
        .to_string();
    let path = format!("/{provider}/{action}");
    fake.calls
        .lock()
        .expect("calls")
        .push((path, key.clone(), body.0));
    let first = fake.seen.lock().expect("seen").insert(key.clone());
    let status = match action.as_str() {
        "charges" if first => StatusCode::SERVICE_UNAVAILABLE,
        "shipments" if fake.refuse_shipments.load(Ordering::SeqCst) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        _ => StatusCode::OK,
    };
    let body = json!({"reference": format!("fake-{key}")}).to_string();
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body)
}

/// Starts the fake on a free loopback port; returns its base URL.
async fn start(fake: Arc<Fake>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).expect("acceptor");
    let app = Route::new().at("/:provider/:action", post(call)).data(fake);
    tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
    format!("http://{addr}")
}

/// The calls the fake saw for `order`, as `(path, key)`.
fn calls_for(fake: &Fake, order: &str) -> Vec<(String, String)> {
    let calls = fake.calls.lock().expect("calls");
    calls
        .iter()
        .filter(|(_, key, _)| key.starts_with(order))
        .map(|(path, key, _)| (path.clone(), key.clone()))
        .collect()
}

async fn http_providers_get_one_idempotency_key_per_order_and_step(backend: Backend) {
    let fake = Arc::new(Fake::default());
    let base = start(fake.clone()).await;
    let tweak = |c: &mut levee::config::Config| {
        for_orders(c);
        c.providers.payment.kind = ProviderKind::Http;
        c.providers.payment.url = Some(format!("{base}/pay"));
        c.providers.shipping.kind = ProviderKind::Http;
        c.providers.shipping.url = Some(format!("{base}/ship/"));
    };
    let Some(app) = TestApp::spawn_with(backend, tweak, None).await else {
        return;
    };
    product(&app, "BOOK", 2000, "EUR", 5).await;
    let buyer = app.customer().await;
    let limit = Duration::from_secs(30);

    let resp = app.place_order(&buyer.access, basket(&[("BOOK", 2)])).await;
    let id = resp.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let done = app
        .order_reaching(&buyer.access, &id, &["completed"], limit)
        .await;
    assert_eq!(done["status"], "completed");
    let charge = format!("{id}:charge");
    assert_eq!(
        calls_for(&fake, &id),
        [
            ("/pay/charges".to_string(), charge.clone()),
            ("/pay/charges".to_string(), charge),
            ("/ship/shipments".to_string(), format!("{id}:ship")),
        ],
        "the charge refused with a 503 is retried with the same key"
    );
    let bodies: Vec<Value> = fake
        .calls
        .lock()
        .expect("calls")
        .iter()
        .map(|c| c.2.clone())
        .collect();
    assert_eq!(
        (bodies[0]["amount"].as_i64(), bodies[0]["currency"].as_str()),
        (Some(4000), Some("EUR"))
    );
    assert_eq!(bodies[2]["address"]["city"], "London");
    assert_eq!(reconciled_stock(&app, "BOOK").await, (3, 0, 2));

    fake.refuse_shipments.store(true, Ordering::SeqCst);
    let resp = app.place_order(&buyer.access, basket(&[("BOOK", 3)])).await;
    let id = resp.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let failed = app
        .order_reaching(&buyer.access, &id, &["failed"], limit)
        .await;
    assert!(
        failed["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("declined"),
        "{failed}"
    );
    let four = || async { calls_for(&fake, &id).len() == 4 };
    eventually(
        "charge (503, then 200), shipment and refund were called",
        four,
    )
    .await;
    let paths: Vec<(String, String)> = calls_for(&fake, &id);
    assert_eq!(
        paths[2],
        ("/ship/shipments".to_string(), format!("{id}:ship"))
    );
    assert_eq!(
        paths[3],
        ("/pay/refunds".to_string(), format!("{id}:refund"))
    );
    let released = || async { reconciled_stock(&app, "BOOK").await == (3, 0, 2) };
    eventually("the refused order's stock is released", released).await;
}

backend_tests!(http_providers_get_one_idempotency_key_per_order_and_step);

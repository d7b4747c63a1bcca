//! The `http` provider kind against a local fake provider: every call carries the
//! idempotency key `<order id>:<step>`, a 5xx is retried with the same key, and a refused
//! shipment is compensated by a refund (same scheme) and the stock's release. The client
//! reads the fake's every behaviour as the protocol says.

use crate::backend_tests;
use crate::helpers::fake_provider::{Action, FakeProvider, Mode};
use crate::helpers::orders::{basket, eventually, for_orders, product, reconciled_stock};
use crate::helpers::{Backend, TestApp};
use levee::config::{Config, Duration as ConfigDuration};
use levee::providers::{Call, ProviderError, Providers};
use serde_json::Value;
use std::time::Duration;

/// The calls the fake saw for `order`, as `(path, key)`.
fn calls_for(fake: &FakeProvider, order: &str) -> Vec<(String, String)> {
    let order = order.parse().expect("order id");
    let calls = fake.calls_for_order(order).into_iter();
    calls.map(|c| (c.path, c.key)).collect()
}

async fn http_providers_get_one_idempotency_key_per_order_and_step(backend: Backend) {
    let fake = FakeProvider::start().await;
    fake.set_mode_of(Action::Charges, Mode::FailingFirst);
    let tweak = |c: &mut levee::config::Config| {
        for_orders(c);
        fake.configure(c);
        // A trailing slash on the base URL must not double the path's.
        c.providers.shipping.url = Some(fake.url("/ship/"));
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
    let bodies: Vec<Value> = fake.calls().into_iter().map(|c| c.body).collect();
    assert_eq!(
        (bodies[0]["amount"].as_i64(), bodies[0]["currency"].as_str()),
        (Some(4000), Some("EUR"))
    );
    assert_eq!(bodies[2]["address"]["city"], "London");
    assert_eq!(reconciled_stock(&app, "BOOK").await, (3, 0, 2));

    fake.set_mode_of(Action::Shipments, Mode::Declining);
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

/// A charge under `key`, through levee's `http` payment client.
async fn charge(providers: &Providers, key: &str) -> Result<String, ProviderError> {
    let call = Call {
        key: key.into(),
        order_id: uuid::Uuid::new_v4(),
        amount: 100,
        currency: "EUR".into(),
        address: None,
        reference: None,
    };
    let receipt = providers.payment.charge(&call).await?;
    Ok(receipt.reference)
}

/// 2xx is a receipt, 4xx a refusal, 5xx and silence past the timeout leave the call to be
/// retried; a key the provider decided gets the same answer again, and acts once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_client_reads_each_provider_behaviour_as_the_protocol_says() {
    let fake = FakeProvider::start().await;
    let mut config = Config::default();
    fake.configure(&mut config);
    config.providers.payment.timeout = ConfigDuration::millis(300);
    let providers = Providers::new(&config.providers, &config.resilience).expect("providers");
    let unavailable =
        |r: Result<String, ProviderError>| matches!(r, Err(ProviderError::Unavailable(_)));
    let declined = |r: Result<String, ProviderError>| matches!(r, Err(ProviderError::Declined(_)));

    assert_eq!(
        charge(&providers, "a").await.ok().as_deref(),
        Some("fake-a")
    );
    fake.set_mode(Mode::Declining);
    assert!(declined(charge(&providers, "b").await));
    assert_eq!(
        charge(&providers, "a").await.ok().as_deref(),
        Some("fake-a")
    );
    fake.set_mode(Mode::Failing);
    assert!(unavailable(charge(&providers, "c").await));
    fake.set_mode(Mode::Hanging);
    assert!(unavailable(charge(&providers, "c").await));
    fake.set_mode(Mode::Slow(Duration::from_millis(10)));
    assert!(declined(charge(&providers, "b").await), "b stays declined");
    assert_eq!(
        charge(&providers, "c").await.ok().as_deref(),
        Some("fake-c")
    );

    let acted: Vec<String> = fake
        .calls()
        .into_iter()
        .filter(|c| c.acted)
        .map(|c| c.key)
        .collect();
    assert_eq!(acted, ["a", "c"]);
    assert_eq!(fake.calls_per_key()["c"], 3);
}

backend_tests!(http_providers_get_one_idempotency_key_per_order_and_step);

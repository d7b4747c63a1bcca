//! What webhooks refuse: a receiver that hangs runs into the deadline, private targets are
//! refused unless allowed (at registration, and by the resolver), endpoints are validated
//! and only admins manage them; an endpoint that keeps failing is disabled, and the admins
//! are told by email.

use crate::backend_tests;
use crate::helpers::receiver::{Receiver, Reply};
use crate::helpers::{Backend, TestApp, pointers};
use levee::config::Duration as ConfigDuration;
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

backend_tests!(
    a_receiver_that_hangs_runs_into_the_deadline,
    private_targets_are_refused_unless_allowed,
    endpoints_are_validated_and_admin_only,
    an_endpoint_failing_past_disable_after_is_disabled_and_admins_are_told,
);

async fn a_receiver_that_hangs_runs_into_the_deadline(backend: Backend) {
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Hang);
    let tweak = |c: &mut levee::config::Config| {
        c.webhooks.timeout = ConfigDuration::millis(300);
    };
    let Some(app) = receiver.app(backend, tweak).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    // A ping goes out whatever the endpoint subscribes to, and answers with the attempt.
    let endpoint = app
        .register_webhook(&admin.access, &receiver.url, &["order.failed"])
        .await;
    let id = endpoint["id"].as_str().expect("id");
    let started = std::time::Instant::now();
    let result = app.ping_webhook(&admin.access, id).await;
    assert_eq!(result["outcome"], "timed_out", "{result}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(receiver.received()[0].json()["type"], "ping");
    assert_eq!(
        app.webhook_attempts(&admin.access, id).await[0]["outcome"],
        "timed_out"
    );
}

async fn private_targets_are_refused_unless_allowed(backend: Backend) {
    let receiver = Receiver::start().await;
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    for url in [
        receiver.url.as_str(),
        "http://10.0.0.1/x",
        "http://[::1]:9/x",
        "http://169.254.169.254/",
    ] {
        let body = json!({"url": url, "event_types": ["order.failed"]});
        let resp = app.create_webhook(&admin.access, body).await;
        assert_eq!(resp.status(), 422, "{url}");
        let problem: Value = resp.json().await.expect("json");
        assert_eq!(pointers(&problem), ["/url"], "{url}");
    }
    // A name that resolves to loopback passes registration; the resolver refuses it.
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    let endpoint = app
        .register_webhook(&admin.access, &by_name, &["order.failed"])
        .await;
    let id = endpoint["id"].as_str().expect("id");
    let result = app.ping_webhook(&admin.access, id).await;
    assert_eq!(result["outcome"], "refused", "{result}");
    assert!(
        receiver.received().is_empty(),
        "nothing reached the receiver"
    );

    // Allowed, the same receiver is reached.
    let Some(allowed) = receiver.app(backend, |_| {}).await else {
        return;
    };
    let admin = allowed.account(Role::Admin).await;
    let endpoint = allowed
        .register_webhook(&admin.access, &receiver.url, &["order.failed"])
        .await;
    let id = endpoint["id"].as_str().expect("id");
    let result = allowed.ping_webhook(&admin.access, id).await;
    assert_eq!(
        (result["outcome"].clone(), result["status_code"].clone()),
        (json!("delivered"), json!(204))
    );
}

async fn endpoints_are_validated_and_admin_only(backend: Backend) {
    let receiver = Receiver::start().await;
    let Some(app) = receiver.app(backend, |_| {}).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let bad = json!({"url": receiver.url, "event_types": ["order.failed", "order.shipped"]});
    let resp = app.create_webhook(&admin.access, bad).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        pointers(&resp.json().await.expect("json")),
        ["/event_types/1"]
    );
    for (body, pointer) in [
        (
            json!({"url": "ftp://127.0.0.1/x", "event_types": ["order.failed"]}),
            "/url",
        ),
        (
            json!({"url": "http://u:p@127.0.0.1/x", "event_types": ["order.failed"]}),
            "/url",
        ),
        (
            json!({"url": receiver.url, "event_types": []}),
            "/event_types",
        ),
        (
            json!({"url": receiver.url, "event_types": ["ping"]}),
            "/event_types/0",
        ),
    ] {
        let resp = app.create_webhook(&admin.access, body.clone()).await;
        assert_eq!(resp.status(), 422, "{body}");
        assert_eq!(
            pointers(&resp.json().await.expect("json")),
            [pointer],
            "{body}"
        );
    }
    let endpoint = app
        .register_webhook(&admin.access, &receiver.url, &["order.failed"])
        .await;
    let id = endpoint["id"].as_str().expect("id");
    let path = format!("/webhook-endpoints/{id}");
    let disabled = app
        .send_as(
            Method::PATCH,
            &path,
            &admin.access,
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(disabled.status(), 200);
    let disabled: Value = disabled.json().await.expect("json");
    assert_eq!(
        (disabled["enabled"].clone(), disabled["secret"].clone()),
        (json!(false), Value::Null)
    );

    let customer = app.customer().await;
    assert_eq!(
        app.get_as("/webhook-endpoints", &customer.access)
            .await
            .status(),
        403
    );
    let editor = app.account(Role::Editor).await;
    assert_eq!(app.get_as(&path, &editor.access).await.status(), 403);
    let missing = format!("/webhook-endpoints/{}", uuid::Uuid::nil());
    assert_eq!(app.get_as(&missing, &admin.access).await.status(), 404);
}

async fn an_endpoint_failing_past_disable_after_is_disabled_and_admins_are_told(backend: Backend) {
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Status(500));
    let tweak = |c: &mut levee::config::Config| {
        c.webhooks.disable_after = ConfigDuration::millis(100);
    };
    let Some(app) = receiver.app(backend, tweak).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    crate::helpers::orders::product(&app, "FAILING-HOOK", 500, "EUR", 1).await;
    let endpoint = app
        .register_webhook(&admin.access, &receiver.url, &["product.updated"])
        .await;
    let id = endpoint["id"].as_str().expect("id");
    let body = json!({"name": "Renamed"});
    let resp = app
        .send_as(
            Method::PATCH,
            "/products/FAILING-HOOK",
            &admin.access,
            Some(body),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let path = format!("/webhook-endpoints/{id}");
    let disabled = || async {
        let found: Value = app
            .get_as(&path, &admin.access)
            .await
            .json()
            .await
            .expect("json");
        found["enabled"] == json!(false)
    };
    crate::helpers::orders::eventually("the failing endpoint is disabled", disabled).await;
    let found: Value = app
        .get_as(&path, &admin.access)
        .await
        .json()
        .await
        .expect("json");
    let reason = found["disabled_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("disable_after"), "{found}");
    assert!(found["failing_since"].is_string(), "{found}");
    let outbox = format!("/mail/outbox?to={}", admin.email.replace('+', "%2B"));
    let told = || async {
        let mail: Value = app
            .get_as(&outbox, &admin.access)
            .await
            .json()
            .await
            .expect("json");
        mail["items"].as_array().is_some_and(|items| {
            items
                .iter()
                .any(|m| m["subject"] == "A webhook endpoint was disabled")
        })
    };
    crate::helpers::orders::eventually("the admin is told by email", told).await;
    let dead = || async {
        let log = app.webhook_attempts(&admin.access, id).await;
        log.first().is_some_and(|a| a["delivery_status"] == "dead")
    };
    crate::helpers::orders::eventually("the delivery ends dead", dead).await;
    assert_eq!(
        receiver.received().len(),
        2,
        "no attempt after the endpoint was disabled"
    );
}

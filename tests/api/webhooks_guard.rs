//! What webhooks refuse: a receiver that hangs runs into the deadline, private targets are
//! refused unless allowed (at registration, and by the resolver), endpoints are validated
//! and only admins manage them.

use crate::backend_tests;
use crate::helpers::receiver::{Receiver, Reply};
use crate::helpers::{Backend, TestApp, pointers};
use crate::webhooks::{app_with, attempts, register};
use levee::config::Duration as ConfigDuration;
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

backend_tests!(
    a_receiver_that_hangs_runs_into_the_deadline,
    private_targets_are_refused_unless_allowed,
    endpoints_are_validated_and_admin_only,
);

async fn a_receiver_that_hangs_runs_into_the_deadline(backend: Backend) {
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Hang);
    let tweak = |c: &mut levee::config::Config| {
        receiver.configure(c);
        c.webhooks.timeout = ConfigDuration::millis(300);
    };
    let Some(app) = TestApp::spawn_with(backend, tweak, None).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    // A ping goes out whatever the endpoint subscribes to, and answers with the attempt.
    let endpoint = register(&app, &admin, &receiver.url, &["order.failed"]).await;
    let id = endpoint["id"].as_str().expect("id");
    let started = std::time::Instant::now();
    let resp = app
        .send_as(
            Method::POST,
            &format!("/webhook-endpoints/{id}/test"),
            &admin.access,
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let result: Value = resp.json().await.expect("json");
    assert_eq!(result["outcome"], "timed_out", "{result}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(receiver.received()[0].json()["type"], "ping");
    assert_eq!(attempts(&app, &admin, id).await[0]["outcome"], "timed_out");
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
        let resp = app
            .send_as(
                Method::POST,
                "/webhook-endpoints",
                &admin.access,
                Some(body),
            )
            .await;
        assert_eq!(resp.status(), 422, "{url}");
        let problem: Value = resp.json().await.expect("json");
        assert_eq!(pointers(&problem), ["/url"], "{url}");
    }
    // A name that resolves to loopback passes registration; the resolver refuses it.
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    let endpoint = register(&app, &admin, &by_name, &["order.failed"]).await;
    let id = endpoint["id"].as_str().expect("id");
    let resp = app
        .send_as(
            Method::POST,
            &format!("/webhook-endpoints/{id}/test"),
            &admin.access,
            None,
        )
        .await;
    let result: Value = resp.json().await.expect("json");
    assert_eq!(result["outcome"], "refused", "{result}");
    assert!(
        receiver.received().is_empty(),
        "nothing reached the receiver"
    );

    // Allowed, the same receiver is reached.
    let Some(allowed) = app_with(&receiver, backend).await else {
        return;
    };
    let admin = allowed.account(Role::Admin).await;
    let endpoint = register(&allowed, &admin, &receiver.url, &["order.failed"]).await;
    let id = endpoint["id"].as_str().expect("id");
    let resp = allowed
        .send_as(
            Method::POST,
            &format!("/webhook-endpoints/{id}/test"),
            &admin.access,
            None,
        )
        .await;
    let result: Value = resp.json().await.expect("json");
    assert_eq!(
        (result["outcome"].clone(), result["status_code"].clone()),
        (json!("delivered"), json!(204))
    );
}

async fn endpoints_are_validated_and_admin_only(backend: Backend) {
    let receiver = Receiver::start().await;
    let Some(app) = app_with(&receiver, backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let bad = json!({"url": receiver.url, "event_types": ["order.failed", "order.shipped"]});
    let resp = app
        .send_as(Method::POST, "/webhook-endpoints", &admin.access, Some(bad))
        .await;
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
        let resp = app
            .send_as(
                Method::POST,
                "/webhook-endpoints",
                &admin.access,
                Some(body.clone()),
            )
            .await;
        assert_eq!(resp.status(), 422, "{body}");
        assert_eq!(
            pointers(&resp.json().await.expect("json")),
            [pointer],
            "{body}"
        );
    }
    let endpoint = register(&app, &admin, &receiver.url, &["order.failed"]).await;
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

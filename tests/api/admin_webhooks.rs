//! The console's webhooks page: endpoints (never their secrets) and recent deliveries with
//! their status, resending one from the page (CSRF-checked), and who may.

use crate::backend_tests;
use crate::helpers::orders::product;
use crate::helpers::receiver::{Receiver, Reply};
use crate::helpers::{Backend, TestApp, csrf_field};
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

backend_tests!(
    the_webhooks_page_lists_endpoints_and_resends_a_delivery,
    editors_may_not_open_the_webhooks_page,
);

const SOON: Duration = Duration::from_secs(20);

async fn page(app: &TestApp, path: &str, cookie: &str) -> String {
    let resp = app.get_with_cookie(path, Some(cookie)).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.expect("body")
}

async fn the_webhooks_page_lists_endpoints_and_resends_a_delivery(backend: Backend) {
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Status(500));
    let tweak = |c: &mut levee::config::Config| {
        c.webhooks.retry_schedule = vec![levee::config::Duration::millis(50)];
    };
    let Some(app) = receiver.app(backend, tweak).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    product(&app, "PAGE-HOOK", 500, "EUR", 1).await;
    let body = json!({"url": receiver.url, "event_types": ["product.updated"], "description": "<b>erp</b>"});
    let resp = app.create_webhook(&admin.access, body).await;
    let endpoint: Value = resp.json().await.expect("json");
    let secret = endpoint["secret"].as_str().expect("secret");
    let patch = json!({"name": "Renamed"});
    let resp = app
        .send_as(
            Method::PATCH,
            "/products/PAGE-HOOK",
            &admin.access,
            Some(patch),
        )
        .await;
    assert_eq!(resp.status(), 200);
    // Two attempts (the first and its one retry), both 500: the delivery is dead.
    receiver.wait_for(2, SOON).await;
    let (_, console) = app.console(Role::Admin).await;
    let dead = || async {
        page(&app, "/admin/webhooks", &console.cookie)
            .await
            .contains(r#"data-status="dead""#)
    };
    crate::helpers::orders::eventually("the delivery shows as dead", dead).await;
    let shown = page(&app, "/admin/webhooks", &console.cookie).await;
    let id = endpoint["id"].as_str().expect("id");
    assert!(
        shown.contains(&format!(r#"<tr data-endpoint-id="{id}">"#)),
        "{shown}"
    );
    assert!(
        shown.contains("&#60;b&#62;erp&#60;/b&#62;"),
        "descriptions are escaped"
    );
    assert!(!shown.contains(secret), "the page never shows a secret");
    assert!(
        shown.contains("product.updated") && shown.contains(">500<"),
        "{shown}"
    );
    let marker = r#"<tr data-delivery-id=""#;
    let start = shown.find(marker).expect("a delivery row") + marker.len();
    let delivery = shown[start..].split('"').next().expect("id").to_string();
    let action = format!("/admin/webhooks/deliveries/{delivery}/resend");

    let forged = app.post_form(&action, &console.cookie, &[]).await;
    assert_eq!(forged.status(), 403, "no CSRF token");
    receiver.set_default(Reply::Status(200));
    let token = csrf_field(&shown);
    let resp = app
        .post_form(&action, &console.cookie, &[("csrf_token", &token)])
        .await;
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert_eq!(location, "/admin/webhooks?notice=resent");
    let got = receiver.wait_for(3, SOON).await;
    assert_eq!(got[2].event_id, got[0].event_id, "the same event again");
    crate::helpers::orders::eventually("the delivery shows as delivered", || async {
        page(&app, &location, &console.cookie)
            .await
            .contains(r#"data-status="delivered""#)
    })
    .await;
    let missing = format!("/admin/webhooks/deliveries/{}/resend", uuid::Uuid::nil());
    let resp = app
        .post_form(&missing, &console.cookie, &[("csrf_token", &token)])
        .await;
    assert_eq!(resp.status(), 404);
}

async fn editors_may_not_open_the_webhooks_page(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, editor) = app.console(Role::Editor).await;
    let (_, admin) = app.console(Role::Admin).await;
    let home = page(&app, "/admin/", &editor.cookie).await;
    assert!(!home.contains(r#"href="/admin/webhooks""#), "no menu entry");
    assert!(
        page(&app, "/admin/", &admin.cookie)
            .await
            .contains(r#"href="/admin/webhooks""#)
    );
    let resp = app
        .get_with_cookie("/admin/webhooks", Some(&editor.cookie))
        .await;
    assert_eq!(resp.status(), 403);
    let token = csrf_field(&home);
    let path = format!("/admin/webhooks/deliveries/{}/resend", uuid::Uuid::nil());
    let resp = app
        .post_form(&path, &editor.cookie, &[("csrf_token", &token)])
        .await;
    assert_eq!(resp.status(), 403);
}

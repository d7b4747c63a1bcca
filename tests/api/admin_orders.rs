//! The console's orders pages: the list and its status filter, one order with its event
//! log (customer text escaped), cancelling from the console, and who may.

use crate::backend_tests;
use crate::helpers::orders::{SETTLED, address, basket, for_orders, product};
use crate::helpers::{Backend, TestApp, csrf_field};
use levee::config::{Config, Duration as ConfigDuration};
use levee::users::Role;
use serde_json::Value;
use std::time::Duration;

backend_tests!(
    the_orders_page_lists_placed_orders_and_filters_by_status,
    the_order_page_shows_its_event_log_with_customer_text_escaped,
    admins_cancel_an_order_from_its_page,
    editors_may_not_open_the_orders_pages,
);

const SOON: Duration = Duration::from_secs(30);

/// The body of a 200 console page.
async fn page(app: &TestApp, path: &str, cookie: &str) -> String {
    let resp = app.get_with_cookie(path, Some(cookie)).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.expect("body")
}

/// Places `body` as `token` and waits until the order settles; returns its id and state.
async fn settled(app: &TestApp, token: &str, body: Value) -> (String, String) {
    let resp = app.place_order(token, body).await;
    assert_eq!(resp.status(), 202);
    let order: Value = resp.json().await.expect("json");
    let id = order["id"].as_str().expect("id").to_string();
    let order = app.order_reaching(token, &id, &SETTLED, SOON).await;
    (id, order["status"].as_str().unwrap_or_default().to_string())
}

fn row(id: &str) -> String {
    format!(r#"<tr data-order-id="{id}""#)
}

async fn the_orders_page_lists_placed_orders_and_filters_by_status(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, for_orders, None).await else {
        return;
    };
    product(&app, "IN-STOCK", 500, "EUR", 5).await;
    product(&app, "SOLD-OUT", 700, "EUR", 0).await;
    let buyer = app.customer().await;
    let (done, done_state) = settled(&app, &buyer.access, basket(&[("IN-STOCK", 1)])).await;
    let (refused, refused_state) = settled(&app, &buyer.access, basket(&[("SOLD-OUT", 1)])).await;
    assert_eq!(
        (done_state.as_str(), refused_state.as_str()),
        ("completed", "rejected")
    );
    let (_, admin) = app.console(Role::Admin).await;

    let all = page(&app, "/admin/orders", &admin.cookie).await;
    let (first, second) = (all.find(&row(&refused)), all.find(&row(&done)));
    assert!(first.is_some() && second.is_some(), "{all}");
    assert!(first < second, "newest first");
    assert!(all.contains(&format!(r#"href="/admin/orders/{done}""#)));

    let rejected = page(&app, "/admin/orders?status=rejected", &admin.cookie).await;
    assert!(rejected.contains(&row(&refused)), "{rejected}");
    assert!(!rejected.contains(&row(&done)), "the filter narrows");
    assert!(rejected.contains(r#"<option value="rejected" selected>"#));
    let completed = page(&app, "/admin/orders?status=completed", &admin.cookie).await;
    assert!(completed.contains(&row(&done)) && !completed.contains(&row(&refused)));

    for bad in ["status=shipped%3Cb%3E", "cursor=garbage!"] {
        let resp = app
            .get_with_cookie(&format!("/admin/orders?{bad}"), Some(&admin.cookie))
            .await;
        assert_eq!(resp.status(), 400, "{bad}");
        let body = resp.text().await.expect("body");
        assert!(!body.contains("shipped<b>"), "not echoed");
    }
}

async fn the_order_page_shows_its_event_log_with_customer_text_escaped(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, for_orders, None).await else {
        return;
    };
    product(&app, "TEE", 1250, "EUR", 5).await;
    let buyer = app.customer().await;
    let mut body = basket(&[("TEE", 2)]);
    let mut shipping = address();
    shipping["name"] = "<script>alert(1)</script>".into();
    body["shipping_address"] = shipping;
    let (id, state) = settled(&app, &buyer.access, body).await;
    assert_eq!(state, "completed");
    let (_, admin) = app.console(Role::Admin).await;

    let shown = page(&app, &format!("/admin/orders/{id}"), &admin.cookie).await;
    assert!(shown.contains(&buyer.email), "the customer's email");
    assert!(shown.contains(r#"<span data-field="status">completed</span>"#));
    assert!(shown.contains("2500 EUR"), "the total");
    assert!(shown.contains(r#"<tr data-sku="TEE">"#));
    assert!(
        shown.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{shown}"
    );
    assert!(!shown.contains("<script>alert"), "customer text is escaped");
    // The same log the API gives, row for row: created, then each step to completed.
    let events: Value = app
        .get_as(&format!("/orders/{id}/events"), &buyer.access)
        .await
        .json()
        .await
        .expect("events");
    let logged = events["items"].as_array().expect("items").len();
    assert!(logged >= 2, "{events}");
    assert_eq!(
        shown.matches("<tr data-event-to=").count(),
        logged,
        "{shown}"
    );
    assert!(shown.contains(r#"<tr data-event-to="pending">"#));
    assert!(shown.contains(r#"<tr data-event-to="completed">"#));
    assert!(
        !shown.contains(r#"data-action="cancel""#),
        "completed is final"
    );

    for missing in ["not-a-uuid", &uuid::Uuid::now_v7().to_string()] {
        let resp = app
            .get_with_cookie(&format!("/admin/orders/{missing}"), Some(&admin.cookie))
            .await;
        assert_eq!(resp.status(), 404, "{missing}");
    }
}

/// Shipping takes 1.5 s, so a paid order stays cancellable long enough to cancel.
fn slow_shipping(c: &mut Config) {
    for_orders(c);
    c.providers.shipping.latency_min = ConfigDuration::millis(1500);
    c.providers.shipping.latency_max = ConfigDuration::millis(1500);
}

async fn admins_cancel_an_order_from_its_page(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, slow_shipping, None).await else {
        return;
    };
    product(&app, "LAMP", 4500, "EUR", 3).await;
    let buyer = app.customer().await;
    let resp = app.place_order(&buyer.access, basket(&[("LAMP", 1)])).await;
    let order: Value = resp.json().await.expect("json");
    let id = order["id"].as_str().expect("id").to_string();
    app.order_reaching(&buyer.access, &id, &["paid"], SOON)
        .await;
    let (_, admin) = app.console(Role::Admin).await;
    let path = format!("/admin/orders/{id}");
    let shown = page(&app, &path, &admin.cookie).await;
    assert!(shown.contains(r#"data-action="cancel""#), "{shown}");
    let action = format!("{path}/cancel");

    let forged = app.post_form(&action, &admin.cookie, &[]).await;
    assert_eq!(forged.status(), 403, "no CSRF token");
    let token = csrf_field(&shown);
    let resp = app
        .post_form(&action, &admin.cookie, &[("csrf_token", &token)])
        .await;
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().expect("location");
    assert_eq!(location, format!("{path}?notice=cancelled"));
    let after = page(&app, location, &admin.cookie).await;
    assert!(after.contains("data-notice"), "{after}");
    assert!(after.contains(r#"<span data-field="status">cancelled</span>"#));
    assert!(after.contains("cancelled by staff"));
    assert!(!after.contains(r#"data-action="cancel""#));
    let again = app
        .post_form(&action, &admin.cookie, &[("csrf_token", &token)])
        .await;
    assert_eq!(again.status(), 409, "a cancelled order is final");
}

async fn editors_may_not_open_the_orders_pages(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, for_orders, None).await else {
        return;
    };
    product(&app, "MUG", 800, "EUR", 3).await;
    let buyer = app.customer().await;
    let (id, _) = settled(&app, &buyer.access, basket(&[("MUG", 1)])).await;
    let (_, editor) = app.console(Role::Editor).await;
    let (_, admin) = app.console(Role::Admin).await;
    let home = page(&app, "/admin/", &editor.cookie).await;
    assert!(!home.contains(r#"href="/admin/orders""#), "no menu entry");
    assert!(
        page(&app, "/admin/", &admin.cookie)
            .await
            .contains(r#"href="/admin/orders""#)
    );
    let token = csrf_field(&home);
    for path in ["/admin/orders".to_string(), format!("/admin/orders/{id}")] {
        let resp = app.get_with_cookie(&path, Some(&editor.cookie)).await;
        assert_eq!(resp.status(), 403, "{path}");
    }
    let cancel = app
        .post_form(
            &format!("/admin/orders/{id}/cancel"),
            &editor.cookie,
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(cancel.status(), 403);
}

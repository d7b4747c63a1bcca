//! The console's reports page: requesting a report with the form (CSRF-checked), seeing it
//! finish with its rows and size, downloading it with the session, and who may.

use crate::backend_tests;
use crate::helpers::reports::{insert_products, parse};
use crate::helpers::{Backend, TestApp, csrf_field};
use levee::users::Role;
use std::time::{Duration, Instant};

backend_tests!(
    admins_request_and_download_a_report_from_the_console,
    editors_may_not_open_the_reports_page,
);

async fn page(app: &TestApp, path: &str, cookie: &str) -> String {
    let resp = app.get_with_cookie(path, Some(cookie)).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.expect("body")
}

/// Posts the request form with `kind` and last day `to`.
async fn request(
    app: &TestApp,
    cookie: &str,
    token: &str,
    kind: &str,
    to: &str,
) -> reqwest::Response {
    let fields = [
        ("csrf_token", token),
        ("type", kind),
        ("from", ""),
        ("to", to),
    ];
    app.post_form("/admin/reports", cookie, &fields).await
}

async fn admins_request_and_download_a_report_from_the_console(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    insert_products(app.state.db(), 12, |i| format!("<b>product {i}</b>")).await;
    let (_, admin) = app.console(Role::Admin).await;
    let empty = page(&app, "/admin/reports", &admin.cookie).await;
    assert!(empty.contains("No reports yet."), "{empty}");
    assert!(empty.contains(r#"<option value="products">"#));

    let forged = app
        .post_form("/admin/reports", &admin.cookie, &[("type", "products")])
        .await;
    assert_eq!(forged.status(), 403, "no CSRF token");
    let token = csrf_field(&empty);
    assert_eq!(
        request(&app, &admin.cookie, &token, "secrets", "")
            .await
            .status(),
        400,
        "unknown type"
    );
    assert_eq!(
        request(&app, &admin.cookie, &token, "products", "yesterday")
            .await
            .status(),
        400,
        "bad date"
    );
    let resp = request(&app, &admin.cookie, &token, "products", "").await;
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert_eq!(location, "/admin/reports?notice=requested");

    let deadline = Instant::now() + Duration::from_secs(30);
    let shown = loop {
        let shown = page(&app, &location, &admin.cookie).await;
        if shown.contains(r#"data-status="done""#) || Instant::now() > deadline {
            break shown;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(shown.contains("data-notice"), "{shown}");
    assert!(
        shown.contains(r#"<td data-field="rows">12</td>"#),
        "{shown}"
    );
    let marker = r#"<a href="/admin/reports/"#;
    let start =
        shown.find(marker).expect("a download link") + marker.len() - "/admin/reports/".len();
    let href = shown[start..].split('"').next().expect("href").to_string();
    assert!(href.ends_with("/download"), "{href}");

    let resp = app.get_with_cookie(&href, Some(&admin.cookie)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let (header, rows) = parse(&resp.bytes().await.expect("csv"));
    assert_eq!(header[1], "sku");
    assert_eq!(rows.len(), 12);
    assert!(
        rows.iter().any(|r| r[2] == "<b>product 3</b>"),
        "the file is not HTML-escaped"
    );
    let missing = format!("/admin/reports/{}/download", uuid::Uuid::now_v7());
    let resp = app.get_with_cookie(&missing, Some(&admin.cookie)).await;
    assert_eq!(resp.status(), 404);
}

async fn editors_may_not_open_the_reports_page(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, editor) = app.console(Role::Editor).await;
    let (_, admin) = app.console(Role::Admin).await;
    let home = page(&app, "/admin/", &editor.cookie).await;
    assert!(!home.contains(r#"href="/admin/reports""#), "no menu entry");
    let admin_home = page(&app, "/admin/", &admin.cookie).await;
    assert!(admin_home.contains(r#"href="/admin/reports""#));
    let resp = app
        .get_with_cookie("/admin/reports", Some(&editor.cookie))
        .await;
    assert_eq!(resp.status(), 403);
    let token = csrf_field(&home);
    let fields = [("csrf_token", token.as_str()), ("type", "users")];
    let resp = app
        .post_form("/admin/reports", &editor.cookie, &fields)
        .await;
    assert_eq!(resp.status(), 403);
}

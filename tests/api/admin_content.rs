//! The console's content page: editors see posts and never stock; admins also see
//! products with their stock and a product's ledger, stock adjustments included.

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use levee::users::Role;
use reqwest::Method;
use serde_json::json;

backend_tests!(
    editors_see_posts_but_never_stock,
    admins_see_products_and_a_ledger_with_the_adjustment,
);

async fn page(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    app.get_with_cookie(path, Some(cookie)).await
}

async fn text(resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), 200);
    resp.text().await.expect("body")
}

/// A product `sku` with `stock` units and a draft and a published post, made through the API.
async fn catalog(app: &TestApp, sku: &str, stock: i64) {
    let admin = app.account(Role::Admin).await;
    let product = json!({"sku": sku, "name": "Wool socks", "price": {"amount": 900, "currency": "EUR"}, "stock": stock});
    let resp = app
        .send_as(Method::POST, "/products", &admin.access, Some(product))
        .await;
    assert_eq!(resp.status(), 201);
    for (title, publish) in [("Spring draft", false), ("Launch day", true)] {
        let body = json!({"title": title, "body": "text"});
        let resp = app
            .send_as(Method::POST, "/posts", &admin.access, Some(body))
            .await;
        assert_eq!(resp.status(), 201);
        let post: serde_json::Value = resp.json().await.expect("json");
        if publish {
            let path = format!("/posts/{}/publish", post["slug"].as_str().expect("slug"));
            let resp = app.send_as(Method::POST, &path, &admin.access, None).await;
            assert_eq!(resp.status(), 200);
        }
    }
}

async fn editors_see_posts_but_never_stock(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    catalog(&app, "SOCK-ED", 4).await;
    let (_, editor) = app.console(Role::Editor).await;
    let html = text(page(&app, "/admin/content", &editor.cookie).await).await;
    assert!(html.contains("<h1>Content</h1>"));
    assert!(html.contains(r#"<tr data-post="launch-day">"#), "{html}");
    assert!(html.contains(r#"<span data-field="status">published</span>"#));
    assert!(
        !html.contains("Spring draft"),
        "drafts are on their own tab"
    );
    assert!(!html.contains("SOCK-ED") && !html.contains("data-section=\"products\""));
    let drafts = text(page(&app, "/admin/content?status=draft", &editor.cookie).await).await;
    assert!(drafts.contains("Spring draft"));
    assert!(drafts.contains(r#"<span data-field="status">draft</span>"#));
    assert!(!drafts.contains("SOCK-ED"));
    let ledger = page(&app, "/admin/content/products/SOCK-ED", &editor.cookie).await;
    assert_eq!(ledger.status(), 403, "an editor never sees stock");

    let resp = app.get_with_cookie("/admin/content", None).await;
    assert_eq!(resp.status(), 303, "no session, no content");
}

async fn admins_see_products_and_a_ledger_with_the_adjustment(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    catalog(&app, "SOCK-AD", 4).await;
    let admin = app.account(Role::Admin).await;
    let adjustment = json!({"delta": 6, "reason": "delivery from the mill"});
    let resp = app
        .send_as(
            Method::POST,
            "/products/SOCK-AD/stock-adjustments",
            &admin.access,
            Some(adjustment),
        )
        .await;
    assert_eq!(resp.status(), 200);

    let (_, console) = app.console(Role::Admin).await;
    let html = text(page(&app, "/admin/content", &console.cookie).await).await;
    assert!(html.contains(r#"<tr data-sku="SOCK-AD">"#), "{html}");
    assert!(html.contains(r#"<td data-field="on-hand">10</td>"#));
    assert!(html.contains(r#"<tr data-post="launch-day">"#));

    let product = text(page(&app, "/admin/content/products/SOCK-AD", &console.cookie).await).await;
    assert!(
        product.contains(r#"<td data-field="available">10</td>"#),
        "{product}"
    );
    assert!(
        product.contains("delivery from the mill"),
        "the adjustment is in the ledger"
    );
    assert!(product.contains("initial stock"), "so is the opening stock");
    assert_eq!(product.matches(r#"<tr data-kind="adjustment">"#).count(), 2);

    for missing in ["NO-SUCH-SKU", "not a sku!"] {
        let path = format!("/admin/content/products/{missing}");
        let resp = page(&app, &path, &console.cookie).await;
        assert_eq!(resp.status(), 404, "{missing}");
    }
}

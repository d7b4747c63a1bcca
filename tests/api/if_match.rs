//! Conditional edits: `If-Match` on PATCH/DELETE of posts and products (412 on a stale
//! version, 428 when required and missing) and the version bump that only applies to the
//! version an edit was made from, so no two bodies ever share one strong ETag.

use crate::backend_tests;
use crate::helpers::{Backend, Session, TestApp, problem};
use levee::db::{SaveError, save_next_version};
use levee::posts::Slug;
use levee::users::Role;
use reqwest::Method;
use sea_orm::{IntoActiveModel, Set};
use serde_json::{Value, json};

async fn send(
    app: &TestApp,
    session: &Session,
    method: Method,
    path: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&session.access);
    if let Some(tag) = if_match {
        req = req.header("If-Match", tag);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.expect("request")
}

/// The ETag an editor sees on `path`.
async fn etag(app: &TestApp, session: &Session, path: &str) -> String {
    let resp = app.get_as(path, &session.access).await;
    assert_eq!(resp.status(), 200);
    resp.headers()["etag"].to_str().expect("etag").to_string()
}

/// A draft post by a new editor: its path and the editor.
async fn draft(app: &TestApp) -> (String, Session) {
    let editor = app.account(Role::Editor).await;
    let post = crate::posts::created(app, &editor, "Racing edits").await;
    (
        format!("/posts/{}", post["slug"].as_str().expect("slug")),
        editor,
    )
}

async fn concurrent_patches_with_one_if_match_let_exactly_one_through(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (path, editor) = draft(&app).await;
    let tag = etag(&app, &editor, &path).await;
    let edit = |body: &'static str| {
        send(
            &app,
            &editor,
            Method::PATCH,
            &path,
            Some(&tag),
            Some(json!({ "body": body })),
        )
    };
    let (a, b) = tokio::join!(edit("from a"), edit("from b"));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412]);
    let loser = if a.status() == 412 { a } else { b };
    let body = problem(loser, 412).await;
    assert_eq!(body["type"], "urn:levee:problem:precondition-failed");
    // Now stale: the tag names the version both edits started from.
    let stale = send(&app, &editor, Method::DELETE, &path, Some(&tag), None).await;
    problem(stale, 412).await;
    let current = etag(&app, &editor, &path).await;
    assert_ne!(current, tag);
    let fresh = send(&app, &editor, Method::DELETE, &path, Some(&current), None).await;
    assert_eq!(fresh.status(), 204);
}

async fn products_check_their_version_not_their_stock(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.account(Role::Admin).await;
    let product = json!({"sku": "MUG", "name": "Mug", "price": {"amount": 900, "currency": "EUR"}, "stock": 5});
    let created = send(&app, &admin, Method::POST, "/products", None, Some(product)).await;
    assert_eq!(created.status(), 201);
    let tag = etag(&app, &admin, "/products/MUG").await;
    let sale = json!({"delta": -1, "reason": "sold at the counter"});
    let adjust = "/products/MUG/stock-adjustments";
    let moved = send(&app, &admin, Method::POST, adjust, None, Some(sale)).await;
    assert_eq!(moved.status(), 200);
    assert_ne!(etag(&app, &admin, "/products/MUG").await, tag);
    let rename = Some(json!({"name": "Big mug"}));
    let edit = |if_match| {
        send(
            &app,
            &admin,
            Method::PATCH,
            "/products/MUG",
            if_match,
            rename.clone(),
        )
    };
    assert_eq!(
        edit(Some(&tag)).await.status(),
        200,
        "stock moved, the product did not"
    );
    problem(edit(Some(&tag)).await, 412).await;
    assert_eq!(edit(Some("*")).await.status(), 200);
    let stale = send(
        &app,
        &admin,
        Method::DELETE,
        "/products/MUG",
        Some(&tag),
        None,
    )
    .await;
    problem(stale, 412).await;
}

async fn edits_without_if_match_are_428_when_required(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.server.require_if_match = true, None).await
    else {
        return;
    };
    let (path, editor) = draft(&app).await;
    let body = Some(json!({"title": "Unconditional"}));
    let patch = send(&app, &editor, Method::PATCH, &path, None, body.clone()).await;
    let refused = problem(patch, 428).await;
    assert_eq!(refused["type"], "urn:levee:problem:precondition-required");
    problem(
        send(&app, &editor, Method::DELETE, &path, None, None).await,
        428,
    )
    .await;
    let tag = etag(&app, &editor, &path).await;
    let patch = send(&app, &editor, Method::PATCH, &path, Some(&tag), body).await;
    assert_eq!(patch.status(), 200);
}

async fn two_saves_from_one_version_never_share_the_next_version(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (path, _) = draft(&app).await;
    let slug = Slug::parse(path.trim_start_matches("/posts/")).expect("slug");
    let read = levee::posts::service::find(&app.state, &slug)
        .await
        .expect("post");
    let conn = app.state.db().write();
    let edit = |body: &str| {
        let mut row = read.clone().into_active_model();
        row.body = Set(body.to_string());
        row
    };
    let first = save_next_version(conn, edit("first"), read.version)
        .await
        .expect("the first edit saves");
    assert_eq!(first.version, read.version + 1);
    let second = save_next_version(conn, edit("second"), read.version).await;
    assert!(
        matches!(second, Err(SaveError::Stale)),
        "a second edit of version {} must not also become version {}: {second:?}",
        read.version,
        read.version + 1
    );
    let stored = levee::posts::service::find(&app.state, &slug)
        .await
        .expect("post");
    assert_eq!(
        (stored.version, stored.body.as_str()),
        (first.version, "first")
    );
}

backend_tests!(
    concurrent_patches_with_one_if_match_let_exactly_one_through,
    products_check_their_version_not_their_stock,
    edits_without_if_match_are_428_when_required,
    two_saves_from_one_version_never_share_the_next_version,
);

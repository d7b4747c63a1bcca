//! Posts: drafts for editors only, publishing, slugs, stable cursor pages, index use.

use crate::backend_tests;
use crate::helpers::{Backend, Session, TestApp};
use levee::db::ids::UserId;
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};

async fn create(app: &TestApp, editor: &Session, body: Value) -> reqwest::Response {
    app.send_as(Method::POST, "/posts", &editor.access, Some(body))
        .await
}

pub(crate) async fn created(app: &TestApp, editor: &Session, title: &str) -> Value {
    let resp = create(app, editor, json!({"title": title, "body": "text"})).await;
    assert_eq!(resp.status(), 201);
    resp.json().await.expect("json")
}

/// Publishes `slug`, asserting success; the response (for its headers).
pub(crate) async fn publish_response(
    app: &TestApp,
    editor: &Session,
    slug: &str,
) -> reqwest::Response {
    let path = format!("/posts/{slug}/publish");
    let resp = app.send_as(Method::POST, &path, &editor.access, None).await;
    assert_eq!(resp.status(), 200);
    resp
}

async fn publish(app: &TestApp, editor: &Session, slug: &str) -> Value {
    let resp = publish_response(app, editor, slug).await;
    resp.json().await.expect("json")
}

async fn public_slugs(app: &TestApp) -> Vec<String> {
    let page: Value = app
        .get("/posts?limit=100")
        .await
        .json()
        .await
        .expect("json");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["slug"].as_str().expect("slug").to_string())
        .collect()
}

async fn drafts_are_invisible_to_the_public(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let post = created(&app, &editor, "Secret launch plans").await;
    assert_eq!(post["status"], "draft");
    assert!(post["id"].is_string());
    let slug = post["slug"].as_str().expect("slug");
    assert_eq!(slug, "secret-launch-plans");

    assert_eq!(app.get(&format!("/posts/{slug}")).await.status(), 404);
    assert!(!public_slugs(&app).await.contains(&slug.to_string()));
    let customer = app.customer().await;
    assert_eq!(
        app.get_as(&format!("/posts/{slug}"), &customer.access)
            .await
            .status(),
        404
    );
    let as_editor = app.get_as(&format!("/posts/{slug}"), &editor.access).await;
    assert_eq!(as_editor.status(), 200);
    assert_eq!(as_editor.headers()["cache-control"], "private, no-store");

    let drafts: Value = app
        .get_as("/posts?status=draft", &editor.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(drafts["items"][0]["slug"], slug);
    assert_eq!(app.get("/posts?status=draft").await.status(), 401);
    assert_eq!(
        app.get_as("/posts?status=draft", &customer.access)
            .await
            .status(),
        403
    );
    assert_eq!(
        create(&app, &customer, json!({"title": "x", "body": "y"}))
            .await
            .status(),
        403
    );
}

async fn publishing_unpublishing_and_deleting(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let slug = created(&app, &editor, "Flash sale").await["slug"]
        .as_str()
        .expect("slug")
        .to_string();
    let published = publish(&app, &editor, &slug).await;
    assert!(published["published_at"].is_string());
    let public: Value = app
        .get(&format!("/posts/{slug}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(public["title"], "Flash sale");
    assert!(public_slugs(&app).await.contains(&slug));

    let unpublished = app
        .send_as(
            Method::POST,
            &format!("/posts/{slug}/unpublish"),
            &editor.access,
            None,
        )
        .await;
    assert_eq!(
        unpublished.json::<Value>().await.expect("json")["status"],
        "draft"
    );
    assert_eq!(app.get(&format!("/posts/{slug}")).await.status(), 404);

    assert_eq!(
        app.send_as(
            Method::DELETE,
            &format!("/posts/{slug}"),
            &editor.access,
            None
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        app.get_as(&format!("/posts/{slug}"), &editor.access)
            .await
            .status(),
        404
    );
    assert_eq!(
        app.send_as(
            Method::DELETE,
            &format!("/posts/{slug}"),
            &editor.access,
            None
        )
        .await
        .status(),
        404
    );
}

async fn slugs_are_generated_unique_and_editable(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let editor = app.account(Role::Admin).await;
    let first = created(&app, &editor, "Launch Day!").await;
    let second = created(&app, &editor, "Launch day").await;
    assert_eq!(first["slug"], "launch-day");
    assert_eq!(second["slug"], "launch-day-2");

    let clash = create(
        &app,
        &editor,
        json!({"title": "x", "body": "y", "slug": "launch-day"}),
    )
    .await;
    assert_eq!(clash.status(), 409);
    assert_eq!(
        clash.json::<Value>().await.expect("json")["errors"][0]["pointer"],
        "/slug"
    );
    let bad = create(
        &app,
        &editor,
        json!({"title": "", "body": "y", "slug": "Not A Slug"}),
    )
    .await;
    assert_eq!(bad.status(), 422);
    let pointers: Vec<String> = bad.json::<Value>().await.expect("json")["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["pointer"].as_str().expect("pointer").to_string())
        .collect();
    assert_eq!(pointers, ["/title", "/slug"]);

    let renamed = app
        .send_as(
            Method::PATCH,
            "/posts/launch-day-2",
            &editor.access,
            Some(json!({"slug": "second-launch", "title": "Second launch"})),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    let renamed: Value = renamed.json().await.expect("json");
    assert_eq!(renamed["slug"], "second-launch");
    assert_ne!(renamed["updated_at"], second["updated_at"]);
    assert_eq!(
        app.get_as("/posts/launch-day-2", &editor.access)
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get_as("/posts/second-launch", &editor.access)
            .await
            .status(),
        200
    );
    let taken = app
        .send_as(
            Method::PATCH,
            "/posts/second-launch",
            &editor.access,
            Some(json!({"slug": "launch-day"})),
        )
        .await;
    assert_eq!(taken.status(), 409);
}

async fn pages_stay_stable_while_new_posts_are_published(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let mut originals = Vec::new();
    for i in 0..7 {
        let slug = created(&app, &editor, &format!("Original {i}")).await["slug"]
            .as_str()
            .expect("slug")
            .to_string();
        publish(&app, &editor, &slug).await;
        originals.push(slug);
    }
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut page_no = 0;
    loop {
        let path = cursor.as_ref().map_or("/posts?limit=3".to_string(), |c| {
            format!("/posts?limit=3&cursor={c}")
        });
        let page: Value = app.get(&path).await.json().await.expect("json");
        seen.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|p| p["slug"].as_str().expect("slug").to_string()),
        );
        page_no += 1;
        if page_no == 1 {
            // Newer posts arrive between page reads; they belong before page 1.
            for i in 0..2 {
                let slug = created(&app, &editor, &format!("Breaking {i}")).await["slug"]
                    .as_str()
                    .expect("slug")
                    .to_string();
                publish(&app, &editor, &slug).await;
            }
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    originals.reverse();
    assert_eq!(seen, originals, "newest first, no duplicates, no gaps");
    assert_eq!(app.get("/posts?cursor=bogus").await.status(), 422);
}

backend_tests!(
    drafts_are_invisible_to_the_public,
    publishing_unpublishing_and_deleting,
    slugs_are_generated_unique_and_editable,
    pages_stay_stable_while_new_posts_are_published,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_uses_the_indexes_for_the_public_reads() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let db = app.state.db();
    for batch in 0..10 {
        let posts = (0..500)
            .map(|i| {
                (
                    format!("bulk-{batch}-{i}"),
                    format!("Bulk {batch} {i}"),
                    "body".to_string(),
                    chrono::Utc::now(),
                )
            })
            .collect();
        levee::posts::insert_published_batch(db.write(), UserId(editor.user_id), posts)
            .await
            .expect("seed");
    }
    sea_orm::ConnectionTrait::execute_unprepared(db.write(), "ANALYZE posts")
        .await
        .expect("analyze");
    let plan = |sql: &'static str| async move {
        let rows = sea_orm::ConnectionTrait::query_all_raw(
            &db.read(),
            sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql),
        )
        .await
        .expect("explain");
        rows.iter()
            .map(|r| r.try_get_by_index::<String>(0).expect("plan line"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let list = plan("EXPLAIN SELECT * FROM posts WHERE status = 'published' ORDER BY published_at DESC, id DESC LIMIT 21").await;
    assert!(list.contains("idx_posts_latest_published"), "{list}");
    let by_slug = plan("EXPLAIN SELECT * FROM posts WHERE slug = 'bulk-3-7'").await;
    assert!(by_slug.contains("posts_slug_key"), "{by_slug}");
}

//! Issue 14 hardening, the OpenAPI contract: what the server answers and accepts agrees with
//! its document (found by schemathesis, `.ci/fuzz-openapi`).

use crate::helpers::{Backend, PASSWORD, TestApp, problem, unique_email};
use levee::users::Role;
use reqwest::Method;
use serde_json::{Value, json};

async fn app() -> TestApp {
    TestApp::spawn(Backend::Sqlite)
        .await
        .expect("SQLite is always available")
}

/// Asserts every member of `body` that is `null` is declared nullable in the component
/// `schema` of the served document `doc`.
fn assert_nulls_are_declared(doc: &Value, schema: &str, body: &Value) {
    let properties = &doc["components"]["schemas"][schema]["properties"];
    let nulls: Vec<&String> = body
        .as_object()
        .expect("an object")
        .iter()
        .filter_map(|(name, value)| value.is_null().then_some(name))
        .collect();
    assert!(
        !nulls.is_empty(),
        "{schema}: expected a null member in {body}"
    );
    for name in nulls {
        assert_eq!(
            properties[name]["nullable"], true,
            "{schema}.{name} is answered as null but not declared nullable"
        );
    }
}

async fn json_of(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status(), status);
    resp.json().await.expect("json body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_answered_as_null_are_declared_nullable() {
    let app = app().await;
    let doc = app.get_json("/openapi.json").await;
    let admin = app.account(Role::Admin).await;
    assert_eq!(
        app.register(&unique_email("nulls"), PASSWORD)
            .await
            .status(),
        201
    );

    let draft = json!({"title": "Draft", "body": ""});
    let post = app.send_as(Method::POST, "/posts", &admin.access, Some(draft));
    assert_nulls_are_declared(&doc, "Post", &json_of(post.await, 201).await);
    let drafts = app.get_as("/posts?status=draft", &admin.access).await;
    assert_nulls_are_declared(&doc, "PostList", &json_of(drafts, 200).await);

    let key = json!({"name": "sync", "scopes": ["users:read"]});
    let key = app.send_as(Method::POST, "/api-keys", &admin.access, Some(key));
    assert_nulls_are_declared(&doc, "CreatedApiKey", &json_of(key.await, 201).await);
    let keys = json_of(app.get_as("/api-keys", &admin.access).await, 200).await;
    assert_nulls_are_declared(&doc, "ApiKeyInfo", &keys["items"][0]);

    let jobs = json_of(app.get_as("/jobs", &admin.access).await, 200).await;
    assert_nulls_are_declared(&doc, "Job", &jobs["items"][0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_405_names_the_methods_of_the_path_in_allow() {
    let app = app().await;
    for (method, path, allow) in [
        ("TRACE", "/posts", "GET, POST, HEAD"),
        ("DELETE", "/health", "GET, HEAD"),
        ("PUT", "/posts/launch", "GET, PATCH, DELETE, HEAD"),
        ("GET", "/jobs/replay", "POST"),
    ] {
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let resp = app.client.request(method, app.url(path)).send().await;
        let resp = resp.expect("request");
        let header = resp.headers().get("allow").and_then(|v| v.to_str().ok());
        assert_eq!(header, Some(allow), "Allow for {path}");
        problem(resp, 405).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_cursor_is_the_first_page_and_a_made_up_one_is_refused() {
    let app = app().await;
    let first = json_of(app.get("/posts?cursor=").await, 200).await;
    assert_eq!(first, json_of(app.get("/posts").await, 200).await);
    problem(app.get("/posts?cursor=bm9wZQ").await, 422).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_body_members_are_ignored_as_the_document_allows() {
    let app = app().await;
    let doc = app.get_json("/openapi.json").await;
    let register = &doc["components"]["schemas"]["RegisterRequest"];
    assert!(register.get("additionalProperties").is_none());
    let body = json!({"email": unique_email("extra"), "password": PASSWORD, "name": "Ada", "newsletter": true});
    assert_eq!(app.post_json("/auth/register", body).await.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_or_a_wrong_type_for_a_non_nullable_field_is_refused() {
    let app = app().await;
    let admin = app.account(Role::Admin).await;
    let customer = app.customer().await;
    let path = format!("/users/{}", customer.user_id);
    for body in [
        json!({"status": null}),
        json!({"role": "editor", "status": null}),
    ] {
        let resp = app.send_as(Method::PATCH, &path, &admin.access, Some(body));
        problem(resp.await, 422).await;
    }
    let user = json_of(app.get_as(&path, &admin.access).await, 200).await;
    assert_eq!(
        (&user["role"], &user["status"]),
        (&json!("customer"), &json!("active"))
    );

    let replay = app.send_as(
        Method::POST,
        "/jobs/replay",
        &admin.access,
        Some(json!({"kind": false})),
    );
    problem(replay.await, 422).await;
    let logout = app
        .post_json("/auth/logout", json!({"refresh_token": 5}))
        .await;
    problem(logout, 422).await;
    let me = app.send_as(
        Method::PATCH,
        "/me",
        &customer.access,
        Some(json!({"name": null})),
    );
    problem(me.await, 422).await;
}

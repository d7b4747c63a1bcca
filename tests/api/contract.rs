//! The API contract as insta snapshots (`tests/api/snapshots/`): the OpenAPI document and
//! the problem+json bodies clients see, so any change to either shows up in review. A
//! missing or different snapshot fails the test (CI never writes snapshots); accept an
//! intended change with `cargo insta review` or `INSTA_UPDATE=always`.

use crate::helpers::{Backend, PASSWORD, TestApp, problem};
use levee::config::Size;
use levee::users::Role;
use serde_json::json;

/// Snapshots the OpenAPI document, pretty-printed; the package version is left out.
#[test]
fn the_openapi_document_matches_its_snapshot() {
    let spec: serde_json::Value =
        serde_json::from_str(&levee::http::api_service().spec()).expect("the spec is JSON");
    insta::assert_json_snapshot!("openapi", spec, {".info.version" => "[version]"});
}

/// Asserts `resp` is a problem with `status` and snapshots its body as `name`, with the
/// request id (different on every request) redacted.
async fn assert_problem_snapshot(name: &str, resp: reqwest::Response, status: u16) {
    let body = problem(resp, status).await;
    insta::assert_json_snapshot!(name, body, {".request_id" => "[request_id]"});
}

/// An app on SQLite with a 1 KiB body limit.
async fn app() -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, |c| c.server.max_body = Size(1024), None)
        .await
        .expect("SQLite is always available")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problems_for_bad_routes_and_bodies_match_their_snapshots() {
    let app = app().await;
    assert_problem_snapshot("not_found", app.get("/no/such/thing").await, 404).await;
    let delete = app.client.delete(app.url("/health")).send().await;
    assert_problem_snapshot("method_not_allowed", delete.expect("request"), 405).await;

    let register = |content_type: &'static str, body: String| {
        app.client
            .post(app.url("/auth/register"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let malformed = register("application/json", "{not json".into()).await;
    assert_problem_snapshot("malformed_json", malformed.expect("request"), 400).await;
    let text = register("text/plain", "email=eve@example.com".into()).await;
    assert_problem_snapshot("unsupported_media_type", text.expect("request"), 415).await;
    let huge = json!({"email": "eve@example.com", "password": "x".repeat(4096), "name": "Eve"});
    let too_large = register("application/json", huge.to_string()).await;
    assert_problem_snapshot("body_too_large", too_large.expect("request"), 413).await;
    let invalid = json!({"email": "not-an-email", "password": "short", "name": "x".repeat(101)});
    let invalid = register("application/json", invalid.to_string()).await;
    assert_problem_snapshot("invalid_registration", invalid.expect("request"), 422).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problems_for_auth_and_conflicts_match_their_snapshots() {
    let app = app().await;
    assert_problem_snapshot("missing_bearer", app.get("/me").await, 401).await;
    let customer = app.customer().await;
    let admin_route = app.get_as("/users", &customer.access).await;
    assert_problem_snapshot("customer_on_admin_route", admin_route, 403).await;

    let email = "taken@example.com";
    assert_eq!(app.register(email, PASSWORD).await.status(), 201);
    let again = app.register(email, PASSWORD).await;
    assert_problem_snapshot("duplicate_email", again, 409).await;

    let editor = app.account(Role::Editor).await;
    let post = json!({"title": "Launch", "body": "text", "slug": "launch"});
    let create = || {
        app.send_as(
            reqwest::Method::POST,
            "/posts",
            &editor.access,
            Some(post.clone()),
        )
    };
    assert_eq!(create().await.status(), 201);
    assert_problem_snapshot("duplicate_slug", create().await, 409).await;

    let keyed = |key: &str, title: &str| {
        app.client
            .post(app.url("/posts"))
            .bearer_auth(&editor.access)
            .header("Idempotency-Key", key)
            .json(&json!({"title": title, "body": "text"}))
            .send()
    };
    assert_eq!(
        keyed("contract-1", "One").await.expect("sent").status(),
        201
    );
    let other = keyed("contract-1", "Other").await.expect("sent");
    assert_problem_snapshot("idempotency_key_reused", other, 422).await;
    let long = keyed(&"k".repeat(256), "One").await.expect("sent");
    assert_problem_snapshot("idempotency_key_too_long", long, 400).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_problem_matches_its_snapshot() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        crate::rate_limit::limited((1, 60, 1)),
        None,
    )
    .await
    .expect("SQLite is always available");
    assert_eq!(app.get("/posts").await.status(), 200);
    assert_problem_snapshot("rate_limited", app.get("/posts").await, 429).await;
}

/// Whether `schema` (or the component it refers to) carries an example.
fn has_example(doc: &serde_json::Value, schema: &serde_json::Value) -> bool {
    if schema.get("example").is_some() {
        return true;
    }
    let component = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"));
    component.is_some_and(|name| has_example(doc, &doc["components"]["schemas"][name]))
}

/// The media types of `content` (a request body's or a response's) without an example.
fn without_example<'a>(
    doc: &'a serde_json::Value,
    content: &'a serde_json::Value,
) -> impl Iterator<Item = &'a String> {
    content
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, media)| media.get("example").is_none() && !has_example(doc, &media["schema"]))
        .map(|(content_type, _)| content_type)
}

/// Every operation of the served document shows an example response, and every request
/// and response body has an example, so operations added later keep them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_has_example_requests_and_responses() {
    let app = app().await;
    let doc = app.get_json("/openapi.json").await;
    let mut missing = Vec::new();
    let paths = doc["paths"].as_object().expect("paths");
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().expect("operations") {
            let name = format!("{} {path}", method.to_uppercase());
            for content_type in without_example(&doc, &operation["requestBody"]["content"]) {
                missing.push(format!("{name}: request body {content_type}"));
            }
            let responses = operation["responses"].as_object().expect("responses");
            let mut shown = false;
            for (status, response) in responses {
                let content = &response["content"];
                shown |= content.as_object().is_some_and(|c| !c.is_empty());
                for content_type in without_example(&doc, content) {
                    missing.push(format!("{name}: response {status} {content_type}"));
                }
            }
            if !shown {
                missing.push(format!("{name}: no response with a body"));
            }
        }
    }
    assert!(missing.is_empty(), "examples missing: {missing:#?}");
}

//! Public reads served from the rendered copy the cache keeps: one fetch serves every
//! encoding, HEAD and signed-in caller, byte for byte the same JSON.

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, header};
use levee::users::Role;
use reqwest::Method;
use serde_json::json;
use std::io::Read;

async fn get_with(app: &TestApp, path: &str, encoding: &str) -> reqwest::Response {
    let resp = app
        .client
        .get(app.url(path))
        .header("accept-encoding", encoding)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200, "{encoding}");
    resp
}

async fn one_fetch_serves_every_encoding_head_and_caller_the_same_json(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let editor = app.account(Role::Editor).await;
    let body = "A paragraph long enough to be worth compressing. ".repeat(100);
    let created = app
        .send_as(
            Method::POST,
            "/posts",
            &editor.access,
            Some(json!({"title": "Rendered once", "body": body})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let slug = created.json::<serde_json::Value>().await.expect("json")["slug"]
        .as_str()
        .expect("slug")
        .to_string();
    crate::posts::publish_response(&app, &editor, &slug).await;
    let path = format!("/posts/{slug}");
    let fetches_before = app.state.cache().fetch_count();

    let plain = get_with(&app, &path, "identity").await;
    assert!(!plain.headers().contains_key("content-encoding"));
    let etag = header(&plain, "etag");
    let json = plain.bytes().await.expect("body");
    let post: serde_json::Value = serde_json::from_slice(&json).expect("json");
    assert_eq!(post["body"], body.as_str());

    let zipped = get_with(&app, &path, "br;q=0, gzip").await;
    assert_eq!(header(&zipped, "content-encoding"), "gzip");
    assert_eq!(header(&zipped, "etag"), etag);
    assert_eq!(header(&zipped, "vary"), "Accept-Encoding");
    let compressed = zipped.bytes().await.expect("body");
    assert!(
        compressed.len() < json.len() / 4,
        "{} bytes",
        compressed.len()
    );
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut unzipped)
        .expect("gzip");
    assert_eq!(unzipped, json, "the gzip copy is the same JSON");

    // A coding the cache keeps no copy of is compressed on the way out, once.
    let brotli = get_with(&app, &path, "br").await;
    assert_eq!(header(&brotli, "content-encoding"), "br");

    let head = app
        .client
        .head(app.url(&path))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "content-encoding"), "gzip");
    assert_eq!(header(&head, "etag"), etag);

    let signed_in = app
        .client
        .get(app.url(&path))
        .bearer_auth(&editor.access)
        .send()
        .await
        .expect("request");
    assert_eq!(header(&signed_in, "cache-control"), "private, no-store");
    assert_eq!(signed_in.bytes().await.expect("body"), json);

    let revalidated = app
        .client
        .get(app.url(&path))
        .header("if-none-match", &etag)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("request");
    assert_eq!(revalidated.status(), 304);
    assert_eq!(
        app.state.cache().fetch_count() - fetches_before,
        1,
        "every answer above came from one fetch"
    );
}

async fn a_compressed_request_body_is_refused_with_415(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let resp = app
        .client
        .post(app.url("/auth/login"))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(vec![0x1f, 0x8b, 0x08, 0x00])
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 415);
    assert_eq!(header(&resp, "accept-encoding"), "identity");
    assert_eq!(header(&resp, "content-type"), "application/problem+json");
    let problem: serde_json::Value = resp.json().await.expect("json");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Content-Encoding"),
        "{problem}"
    );
}

backend_tests!(
    one_fetch_serves_every_encoding_head_and_caller_the_same_json,
    a_compressed_request_body_is_refused_with_415,
);

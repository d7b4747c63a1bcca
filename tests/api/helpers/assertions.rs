//! Assertions on responses: RFC 9457 problem bodies, the fields they name, header values.

/// Asserts `resp` is an RFC 9457 problem with `status`, carrying the request id, and
/// returns its body.
pub async fn problem(resp: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(resp.status().as_u16(), status);
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let request_id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: serde_json::Value = resp.json().await.expect("json body");
    for member in ["type", "title", "detail", "instance"] {
        assert!(body[member].is_string(), "{member} missing in {body}");
    }
    assert_eq!(body["status"], status);
    assert_eq!(body["request_id"].as_str(), request_id.as_deref());
    body
}

/// The JSON pointers named in a problem's `errors`.
pub fn pointers(body: &serde_json::Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str().map(str::to_string))
        .collect()
}

/// The value of header `name` in `resp`, or "" when it is absent or not text.
pub fn header(resp: &reqwest::Response, name: &str) -> String {
    let value = resp.headers().get(name).and_then(|v| v.to_str().ok());
    value.unwrap_or_default().to_string()
}

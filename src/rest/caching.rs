//! HTTP caching of public reads: strong ETags derived from entity versions (not from the
//! body, so HEAD and compressed responses agree), Last-Modified, conditional requests
//! answered with 304, configurable Cache-Control, and Surrogate-Key tags for CDN purges.

use super::rendered::{JsonBody, Rendered};
use chrono::{DateTime, Utc};
use poem::Request;
use poem::http::header::{IF_MODIFIED_SINCE, IF_NONE_MATCH};
use poem_openapi::ApiResponse;
use poem_openapi::types::ToJSON;

/// What identifies one version of a representation.
pub struct Validators {
    /// Without quotes; made from ids and versions.
    pub tag: String,
    pub last_modified: Option<DateTime<Utc>>,
    /// Space-separated tags a CDN can purge by.
    pub surrogate_keys: String,
}

#[derive(ApiResponse)]
pub enum Cached<T: ToJSON> {
    /// The representation, with its validators.
    #[oai(status = 200)]
    Fresh(
        JsonBody<T>,
        #[oai(header = "ETag")] String,
        #[oai(header = "Last-Modified")] Option<String>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Vary")] String,
        #[oai(header = "Surrogate-Key")] String,
    ),
    /// The client's copy is current.
    #[oai(status = 304)]
    NotModified(
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
    ),
}

pub(super) fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Whether the client's validators match: `If-None-Match` when sent (weak comparison, as
/// RFC 9110 asks for it), else `If-Modified-Since` (`last_modified` in unix seconds).
pub(super) fn not_modified(req: &Request, etag: &str, last_modified: Option<i64>) -> bool {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(candidates) = header(IF_NONE_MATCH) {
        return candidates
            .split(',')
            .map(|c| c.trim().trim_start_matches("W/"))
            .any(|c| c == "*" || c == etag);
    }
    match (
        header(IF_MODIFIED_SINCE).and_then(|v| DateTime::parse_from_rfc2822(v).ok()),
        last_modified,
    ) {
        (Some(since), Some(modified)) => modified <= since.timestamp(),
        _ => false,
    }
}

/// Builds the response for `body` with `validators`; signed-in callers get
/// `private, no-store` instead of the public policy.
pub fn respond<T: ToJSON>(
    req: &Request,
    public_policy: &str,
    validators: Validators,
    body: T,
) -> Cached<T> {
    Rendered::new(&body, validators).respond(req, public_policy)
}

/// A compact tag for a list: a hash of its members' own tags.
pub fn list_tag(prefix: &str, members: impl Iterator<Item = String>) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for member in members {
        hasher.update(member.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    format!(
        "{prefix}-{}",
        digest
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder();
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.finish()
    }

    #[test]
    fn if_none_match_wins_and_compares_weakly() {
        let modified = Some(1_764_000_000);
        assert!(not_modified(
            &request(&[("if-none-match", "\"a\", W/\"p-1\"")]),
            "\"p-1\"",
            modified
        ));
        assert!(!not_modified(
            &request(&[
                ("if-none-match", "\"other\""),
                ("if-modified-since", "Tue, 25 Nov 2025 00:00:00 GMT")
            ]),
            "\"p-1\"",
            modified
        ));
        assert!(not_modified(
            &request(&[("if-none-match", "*")]),
            "\"p-1\"",
            None
        ));
    }

    #[test]
    fn if_modified_since_compares_seconds() {
        let at = DateTime::<Utc>::from_timestamp(1_764_000_000, 500_000_000).expect("time");
        let (exact, modified) = (http_date(at), Some(at.timestamp()));
        assert!(not_modified(
            &request(&[("if-modified-since", &exact)]),
            "\"x\"",
            modified
        ));
        assert!(!not_modified(
            &request(&[("if-modified-since", "Mon, 01 Jan 2024 00:00:00 GMT")]),
            "\"x\"",
            modified
        ));
    }

    #[test]
    fn list_tags_change_with_any_member() {
        let tags = |v: &[&str]| list_tag("posts", v.iter().map(|s| s.to_string()));
        assert_ne!(tags(&["a-v1", "b-v1"]), tags(&["a-v1", "b-v2"]));
        assert_eq!(tags(&["a-v1", "b-v1"]), tags(&["a-v1", "b-v1"]));
    }
}

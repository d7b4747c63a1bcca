//! Representations rendered once and shared. A cached public read keeps the finished
//! response — JSON bytes, a gzip copy when the body is large enough to gain from one, and
//! the validators with their header values — so a hit serialises and formats nothing. What
//! still varies per request is decided when answering: the caller (signed-in callers get
//! `private, no-store`), `Accept-Encoding`, and the client's validators (304).

use super::caching::{Cached, Validators, http_date, not_modified};
use bytes::Bytes;
use poem::Request;
use poem::http::HeaderValue;
use poem::http::header::{AUTHORIZATION, CONTENT_ENCODING};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::marker::PhantomData;

const JSON: &str = "application/json; charset=utf-8";

/// Bodies shorter than this are sent as they are: gzip would save a packet at most.
const GZIP_FROM: usize = 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rendered {
    json: Bytes,
    gzip: Option<Bytes>,
    /// With its quotes.
    etag: String,
    /// Unix seconds, for `If-Modified-Since`, and the header value.
    last_modified: Option<(i64, String)>,
    surrogate_keys: String,
}

impl Rendered {
    /// `value` as the JSON poem-openapi would send, with `validators`.
    pub fn new<T: ToJSON>(value: &T, validators: Validators) -> Self {
        // Serialising a `serde_json::Value` cannot fail.
        let json = serde_json::to_vec(&value.to_json()).unwrap_or_default();
        Self {
            json: json.into(),
            gzip: None,
            etag: format!("\"{}\"", validators.tag),
            last_modified: validators
                .last_modified
                .map(|at| (at.timestamp(), http_date(at))),
            surrogate_keys: validators.surrogate_keys,
        }
    }

    /// Adds a gzip copy when the body is large enough and compresses well.
    pub fn with_gzip(mut self) -> Self {
        if self.json.len() >= GZIP_FROM {
            self.gzip = gzip(&self.json).filter(|z| z.len() < self.json.len() * 9 / 10);
        }
        self
    }

    /// The response to `req`; `public_policy` is the `Cache-Control` of anonymous reads.
    pub fn respond<T: ToJSON>(&self, req: &Request, public_policy: &str) -> Cached<T> {
        let cache_control = if req.headers().contains_key(AUTHORIZATION) {
            "private, no-store".to_string()
        } else {
            public_policy.to_string()
        };
        let modified_at = self.last_modified.as_ref().map(|(at, _)| *at);
        if not_modified(req, &self.etag, modified_at) {
            return Cached::NotModified(self.etag.clone(), cache_control);
        }
        let gzip = self
            .gzip
            .as_ref()
            .filter(|_| super::accept_encoding::accepts_gzip(req.headers()));
        Cached::Fresh(
            JsonBody {
                body: gzip.unwrap_or(&self.json).clone(),
                gzip: gzip.is_some(),
                schema: PhantomData,
            },
            self.etag.clone(),
            self.last_modified
                .as_ref()
                .map(|(_, header)| header.clone()),
            cache_control,
            "Accept-Encoding".into(),
            self.surrogate_keys.clone(),
        )
    }
}

fn gzip(bytes: &[u8]) -> Option<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 2),
        flate2::Compression::default(),
    );
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok().map(Bytes::from)
}

/// JSON already serialised (gzip-encoded when `gzip`), documented as `T`.
pub struct JsonBody<T> {
    body: Bytes,
    gzip: bool,
    schema: PhantomData<fn() -> T>,
}

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = JSON;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T> poem::IntoResponse for JsonBody<T> {
    fn into_response(self) -> poem::Response {
        let mut resp = poem::Response::builder().content_type(JSON).body(self.body);
        if self.gzip {
            resp.headers_mut()
                .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        resp
    }
}

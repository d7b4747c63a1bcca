//! Response compression by `Accept-Encoding` (zstd, br, gzip, deflate: the client's
//! highest q, ties to the stronger coding). Unlike poem's `Compression`, a response that
//! already carries a `Content-Encoding` passes untouched: the cache keeps gzip copies of
//! public reads, compressed once rather than per request. Request bodies are never
//! decompressed: one with a content coding is refused with 415 (RFC 7694), so a small
//! compressed body cannot expand past the body limit's intent.

use super::observe::{RequestId, error_response};
use poem::http::header::{ACCEPT_ENCODING, CONTENT_ENCODING};
use poem::http::{HeaderMap, HeaderValue, StatusCode};
use poem::web::CompressionAlgo;
use poem::{Endpoint, IntoResponse, Request, Response, Result};

pub struct Compress<E>(pub E);

impl<E: Endpoint> Endpoint for Compress<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        if let Some(coding) = req.headers().get(CONTENT_ENCODING)
            && coding.as_bytes() != b"identity"
        {
            let err = poem::Error::from_string(
                "request bodies must be sent without a Content-Encoding",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            );
            let request_id = req.data::<RequestId>().map_or("", |id| &*id.0);
            let mut resp = error_response(&err, req.uri().path(), request_id);
            // RFC 7694: name the request codings that are accepted.
            resp.headers_mut()
                .insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
            return Ok(resp);
        }
        let algo = negotiate(req.headers());
        let resp = self.0.call(req).await?.into_response();
        Ok(match algo {
            Some(algo) if !resp.headers().contains_key(CONTENT_ENCODING) => {
                poem::web::Compress::new(resp, algo).into_response()
            }
            _ => resp,
        })
    }
}

/// The coding to answer with: the highest q the client gives a coding we speak; `*`
/// means gzip, the one every client decodes.
fn negotiate(headers: &HeaderMap) -> Option<CompressionAlgo> {
    crate::rest::accept_encoding::accepted(headers)
        .filter_map(|(name, q)| {
            let (algo, strength) = match name.to_ascii_lowercase().as_str() {
                "zstd" => (CompressionAlgo::ZSTD, 4),
                "br" => (CompressionAlgo::BR, 3),
                "gzip" | "*" => (CompressionAlgo::GZIP, 2),
                "deflate" => (CompressionAlgo::DEFLATE, 1),
                _ => return None,
            };
            Some(((q * 1000.0) as u32, strength, algo))
        })
        .max_by_key(|(q, strength, _)| (*q, *strength))
        .map(|(_, _, algo)| algo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(accept: &str) -> Option<CompressionAlgo> {
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_str(accept).expect("header"),
        );
        negotiate(&headers)
    }

    #[test]
    fn the_highest_q_wins_and_ties_go_to_the_stronger_coding() {
        assert_eq!(chosen("gzip, br"), Some(CompressionAlgo::BR));
        assert_eq!(chosen("gzip;q=1, br;q=0.5"), Some(CompressionAlgo::GZIP));
        assert_eq!(chosen("br;q=0, gzip"), Some(CompressionAlgo::GZIP));
        assert_eq!(chosen("*"), Some(CompressionAlgo::GZIP));
        assert_eq!(chosen("identity"), None);
        assert_eq!(chosen("gzip;q=0"), None);
        assert_eq!(chosen("gzip;q=nonsense"), None);
    }
}

//! `Accept-Encoding` (RFC 9110 §12.5.3), parsed one way for every layer that picks a coding:
//! the response compressor and the cached reads that keep a gzip copy.

use poem::http::HeaderMap;
use poem::http::header::ACCEPT_ENCODING;

/// The codings the client accepts, with their weights: `(name, q)` for every item whose `q`
/// (1 when absent) parses and is above 0. Names are as sent; compare them ignoring case.
pub fn accepted(headers: &HeaderMap) -> impl Iterator<Item = (&str, f32)> {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().filter(|n| !n.is_empty())?;
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .map_or(Some(1.0), |q| q.parse::<f32>().ok())?;
            (q > 0.0).then_some((name, q))
        })
}

/// Whether a gzip body is acceptable (`gzip` or `*` with a weight above 0).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    accepted(headers).any(|(name, _)| name.eq_ignore_ascii_case("gzip") || name == "*")
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::http::HeaderValue;

    fn headers(accept: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_str(accept).expect("header"),
        );
        headers
    }

    #[test]
    fn weights_default_to_one_and_zero_or_malformed_ones_refuse() {
        let parsed: Vec<_> = accepted(&headers("gzip, br;q=0.5, zstd;q=0, deflate;q=x"))
            .map(|(n, q)| (n.to_string(), q))
            .collect();
        assert_eq!(parsed, vec![("gzip".into(), 1.0), ("br".into(), 0.5)]);
    }

    #[test]
    fn gzip_is_accepted_by_name_in_any_case_or_by_star() {
        assert!(accepts_gzip(&headers("GZip")));
        assert!(accepts_gzip(&headers("br, *;q=0.1")));
        assert!(!accepts_gzip(&headers("gzip;q=0")));
        assert!(!accepts_gzip(&headers("br")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}

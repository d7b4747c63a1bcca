//! Keyset pagination: opaque cursors carrying the last row's sort key, and the `limit`
//! bounds shared by every list endpoint.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

/// A `?cursor=` that this endpoint did not make.
#[derive(Debug, Clone, thiserror::Error)]
#[error("not a cursor returned by this endpoint")]
pub struct InvalidCursor;

/// Encodes a sort key as an opaque cursor.
fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// Decodes a cursor made by [`encode_cursor`].
fn decode_cursor<K: DeserializeOwned>(cursor: &str) -> Result<K, InvalidCursor> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(InvalidCursor)
}

/// What a list request asks for: at most `limit` rows after `after` (the decoded cursor).
#[derive(Debug, Clone)]
pub struct PageRequest<K> {
    pub limit: u64,
    pub after: Option<K>,
}

impl<K: DeserializeOwned> PageRequest<K> {
    /// The `?limit=` (default 20) and `?cursor=` of a list request. An empty `cursor=` is
    /// the first page, like no cursor: forms and generated clients send empty parameters.
    pub fn parse(limit: Option<u64>, cursor: Option<&str>) -> Result<Self, InvalidCursor> {
        Ok(Self {
            limit: limit.unwrap_or(DEFAULT_LIMIT),
            after: cursor
                .filter(|c| !c.is_empty())
                .map(decode_cursor)
                .transpose()?,
        })
    }

    /// Like [`parse`](Self::parse), but a cursor this list did not make gives the first
    /// page: for console links, where an error page would help nobody.
    pub fn parse_or_first(limit: u64, cursor: Option<&str>) -> Self {
        Self::parse(Some(limit), cursor).unwrap_or(Self { limit, after: None })
    }

    /// Rows to fetch: one more than a page, to know whether another follows.
    pub fn rows(&self) -> u64 {
        self.limit + 1
    }
}

/// One page of a list: at most `limit` items and the cursor of the next page, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The page from `rows` fetched with [`PageRequest::rows`]; `key` is the sort key the
    /// next page continues after.
    pub fn from_rows<K: Serialize>(mut rows: Vec<T>, limit: u64, key: impl Fn(&T) -> K) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let cursor = encode_cursor(&("a@example.com", 7));
        assert_eq!(
            decode_cursor::<(String, i32)>(&cursor).ok(),
            Some(("a@example.com".into(), 7))
        );
        assert!(decode_cursor::<(String, i32)>("!!!").is_err());
    }

    #[test]
    fn the_extra_row_becomes_the_next_cursor() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| *n);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(
            page.next_cursor
                .as_deref()
                .map(decode_cursor::<i32>)
                .and_then(Result::ok),
            Some(2)
        );
        assert_eq!(Page::from_rows(vec![1], 2, |n| *n).next_cursor, None);
    }
}

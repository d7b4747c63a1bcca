//! The building blocks features use to speak HTTP: request-body field rules, conditional (cacheable) responses,
//! `201`/`204` responses, `If-Match` on writes, `Idempotency-Key` on creating POSTs, the client's address behind trusted proxies, cookies and the list page
//! type. They know no feature and no state, so features depend on them and `http`
//! assembles the features.

pub mod accept_encoding;
pub mod body;
pub mod caching;
pub mod client_ip;
pub mod cookies;
pub mod examples;
pub mod idempotency;
pub mod page;
pub mod preconditions;
pub mod rendered;
pub mod responses;
pub mod visibility;

//! The API keys page: every key, newest first, with its scopes, use and state, and a
//! revoke button on the ones still live. Listing and revoking are the API's
//! (`auth::api_keys`); the secret itself was shown once at creation and is not stored.

use super::csrf;
use super::pages::Chrome;
use super::service::Staff;
use super::users::shown_time;
use crate::auth::api_keys;
use crate::auth::entity::api_key;
use crate::db::pagination::Page;
use askama::Template;

/// Keys per page.
pub const PAGE_SIZE: u64 = 50;

/// One key as the page shows it.
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created_by: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: String,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
}

impl From<api_key::Model> for KeyRow {
    fn from(m: api_key::Model) -> Self {
        let optional = |at: Option<chrono::DateTime<chrono::Utc>>| at.map(shown_time);
        let state = if m.revoked_at.is_some() {
            "revoked"
        } else if m.expires_at.is_some_and(|at| at <= chrono::Utc::now()) {
            "expired"
        } else {
            "active"
        };
        Self {
            scopes: api_keys::scopes_of(&m)
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            id: m.id.to_string(),
            name: m.name,
            prefix: m.prefix,
            created_by: m.created_by.map(|u| u.0.to_string()),
            created_at: shown_time(m.created_at),
            expires_at: optional(m.expires_at).unwrap_or_else(|| "never".into()),
            last_used_at: optional(m.last_used_at).unwrap_or_else(|| "never".into()),
            state,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/api_keys.html")]
pub struct ApiKeysPage {
    pub chrome: Chrome,
    pub rows: Vec<KeyRow>,
    pub next: Option<String>,
    pub notice: Option<&'static str>,
    pub csrf_token: String,
}

impl ApiKeysPage {
    pub fn new(
        nonce: &str,
        staff: &Staff,
        page: Page<api_key::Model>,
        notice: Option<&'static str>,
    ) -> Self {
        Self {
            chrome: Chrome::new(nonce, Some(staff)),
            next: page
                .next_cursor
                .map(|c| format!("/admin/api-keys?cursor={c}")),
            rows: page.items.into_iter().map(KeyRow::from).collect(),
            notice,
            csrf_token: csrf::token(&staff.session),
        }
    }
}

//! The users pages: searching accounts by email, one account with its role and status,
//! and the confirmation before disabling one. The changes themselves are the API's
//! (`users::administer`), so the same rules hold: disabling ends the account's refresh
//! tokens in the same transaction, and its console sessions end at their next request.

use super::csrf;
use super::pages::Chrome;
use super::service::Staff;
use crate::auth::Permission;
use crate::db::pagination::Page;
use crate::users::{self, Email, Role, UserFilter};
use askama::Template;

/// Accounts per page of search results.
pub const PAGE_SIZE: u64 = 25;

/// The longest search text: no email is longer.
pub const MAX_QUERY: usize = Email::MAX_LEN;

/// The filter for the search text `q` (blank: every account), or why it is refused.
pub fn search_filter(q: &str) -> Result<UserFilter, String> {
    let q = q.trim();
    if q.chars().count() > MAX_QUERY {
        return Err(format!("Search for at most {MAX_QUERY} characters."));
    }
    Ok(UserFilter {
        email_contains: (!q.is_empty()).then(|| q.to_string()),
        ..UserFilter::default()
    })
}

/// What a `?notice=` code after a change says. Only these fixed messages are shown, so a
/// link cannot make the console display text of its own.
pub fn notice(code: &str) -> Option<&'static str> {
    match code {
        "role-changed" => Some("The role was changed."),
        "disabled" => Some("The account was disabled; its refresh tokens are revoked."),
        "active" => Some("The account was enabled."),
        "reset-sent" => Some("A password-reset link is on its way (active accounts only)."),
        "deleted" => Some(
            "The account was deleted: disabled and signed out at once; its personal data is \
             being anonymised.",
        ),
        "revoked" => Some("The API key was revoked."),
        _ => None,
    }
}

/// A moment as the console's tables show it.
pub fn shown_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// One account as the pages show it.
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub status: &'static str,
    /// When the address was verified, or "not verified".
    pub email_verified: String,
    pub created_at: String,
}

impl From<users::Model> for UserRow {
    fn from(m: users::Model) -> Self {
        Self {
            id: m.id.0.to_string(),
            email: m.email.into(),
            name: m.name,
            role: m.role.as_str(),
            status: m.status.as_str(),
            email_verified: m
                .email_verified_at
                .map_or_else(|| "not verified".to_string(), shown_time),
            created_at: shown_time(m.created_at),
        }
    }
}

/// The link to the page after `cursor` of the results for `q`.
fn next_href(q: &str, cursor: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("q", q)
        .append_pair("cursor", cursor)
        .finish();
    format!("/admin/users?{query}")
}

#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub q: String,
    pub max_query: usize,
    pub rows: Vec<UserRow>,
    pub next: Option<String>,
    pub error: Option<String>,
    pub notice: Option<&'static str>,
}

impl UsersPage {
    pub fn new(
        chrome: Chrome,
        q: &str,
        page: Page<users::Model>,
        notice: Option<&'static str>,
    ) -> Self {
        Self {
            chrome,
            notice,
            q: q.trim().to_string(),
            max_query: MAX_QUERY,
            next: page.next_cursor.map(|c| next_href(q.trim(), &c)),
            rows: page.items.into_iter().map(UserRow::from).collect(),
            error: None,
        }
    }

    /// The search form again with why the search was refused.
    pub fn refused(chrome: Chrome, q: &str, error: String) -> Self {
        Self {
            chrome,
            q: q.chars().take(MAX_QUERY).collect(),
            max_query: MAX_QUERY,
            rows: Vec::new(),
            next: None,
            error: Some(error),
            notice: None,
        }
    }
}

/// A role in the role form, with whether the account holds it now.
pub struct RoleOption {
    pub value: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "admin/user.html")]
pub struct UserPage {
    pub chrome: Chrome,
    pub user: UserRow,
    pub active: bool,
    pub notice: Option<&'static str>,
    pub roles: Vec<RoleOption>,
    pub may_change_role: bool,
    pub may_manage: bool,
    pub csrf_token: String,
}

impl UserPage {
    /// The page of `user` for `staff`, with the forms their role allows.
    pub fn new(
        nonce: &str,
        staff: &Staff,
        user: users::Model,
        notice: Option<&'static str>,
    ) -> Self {
        Self {
            roles: [Role::Admin, Role::Editor, Role::Customer]
                .into_iter()
                .map(|r| RoleOption {
                    value: r.as_str(),
                    selected: r == user.role,
                })
                .collect(),
            active: user.status == users::UserStatus::Active,
            user: user.into(),
            chrome: Chrome::new(nonce, Some(staff)),
            notice,
            may_change_role: Permission::ChangeRoles.granted_to(staff.user.role),
            may_manage: Permission::ManageUsers.granted_to(staff.user.role),
            csrf_token: csrf::token(&staff.session),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/user_disable.html")]
pub struct DisablePage {
    pub chrome: Chrome,
    pub user: UserRow,
    pub csrf_token: String,
    /// Asks before deleting the account rather than disabling it.
    pub delete: bool,
}

impl DisablePage {
    pub fn new(nonce: &str, staff: &Staff, user: users::Model, delete: bool) -> Self {
        Self {
            chrome: Chrome::new(nonce, Some(staff)),
            user: user.into(),
            csrf_token: csrf::token(&staff.session),
            delete,
        }
    }
}

//! The askama templates of the console (`web/templates/admin/`) and the page chrome every
//! one of them shares: asset URLs by content hash, the CSP nonce, the signed-in user.

use super::assets;
use super::csrf;
use super::overview::Overview;
use super::service::Staff;
use crate::auth::Permission;
use askama::Template;

/// The console's pages in menu order, each with the permission that opens it (`None`:
/// every staff member). A page a role may not open is not in that role's menu.
const NAV: &[(&str, &str, Option<Permission>)] = &[
    ("/admin/", "Overview", None),
    ("/admin/users", "Users", Some(Permission::ReadUsers)),
    (
        "/admin/api-keys",
        "API keys",
        Some(Permission::ManageApiKeys),
    ),
    ("/admin/orders", "Orders", Some(Permission::ReadOrders)),
    ("/admin/reports", "Reports", Some(Permission::RunReports)),
    (
        "/admin/webhooks",
        "Webhooks",
        Some(Permission::ManageWebhooks),
    ),
    ("/admin/routes", "Routes", Some(Permission::Operate)),
    ("/admin/cache", "Cache", Some(Permission::Operate)),
    ("/admin/database", "Database", Some(Permission::Operate)),
    (
        "/admin/ratelimits",
        "Rate limits",
        Some(Permission::Operate),
    ),
    ("/admin/resilience", "Resilience", Some(Permission::Operate)),
    ("/admin/content", "Content", Some(Permission::ManagePosts)),
    ("/admin/queues", "Queues", Some(Permission::ManageJobs)),
    ("/admin/settings", "Settings", Some(Permission::Operate)),
];

/// One menu entry.
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
}

/// The signed-in user as the header shows them, with the sign-out form's CSRF token.
pub struct UserChrome {
    pub email: String,
    pub role: &'static str,
    pub csrf_token: String,
    pub nav: Vec<NavLink>,
}

/// What the layout needs on every page.
pub struct Chrome {
    pub nonce: String,
    pub css: String,
    pub js: String,
    pub icon: String,
    pub user: Option<UserChrome>,
}

impl Chrome {
    pub fn new(nonce: &str, staff: Option<&Staff>) -> Self {
        Self {
            nonce: nonce.to_string(),
            css: assets::url("app.css"),
            js: assets::url("app.js"),
            icon: assets::url("icon.svg"),
            user: staff.map(|staff| UserChrome {
                email: staff.user.email.as_str().to_string(),
                role: staff.user.role.as_str(),
                csrf_token: csrf::token(&staff.session),
                nav: NAV
                    .iter()
                    .filter(|(_, _, needs)| needs.is_none_or(|p| p.granted_to(staff.user.role)))
                    .map(|&(href, label, _)| NavLink { href, label })
                    .collect(),
            }),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub csrf_token: String,
    pub email: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
pub struct OverviewPage {
    pub chrome: Chrome,
    pub overview: Overview,
    pub version: &'static str,
    pub uptime: String,
    pub refresh_ms: u128,
    pub taken_at: String,
}

/// The overview's live panel alone, for the refresh script.
#[derive(Template)]
#[template(path = "admin/overview_live.html")]
pub struct OverviewLive {
    pub overview: Overview,
    pub taken_at: String,
}

#[derive(Template)]
#[template(path = "admin/message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub title: &'static str,
    pub message: String,
}

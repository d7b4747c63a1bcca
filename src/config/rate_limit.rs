//! The `[rate_limit]` section: named policies and the routes they guard.

use super::{Duration, IntIn};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Off: nothing is limited and no RateLimit headers are sent.
    pub enabled: bool,
    /// When Redis fails: true = fall back to per-process limits; false = answer 503.
    pub fail_open: bool,
    /// Named policies. `public`, `login` and `authenticated` always exist; redefine them
    /// here (all four fields) or add more.
    #[serde(deserialize_with = "with_builtin_policies")]
    pub policies: BTreeMap<String, PolicyConfig>,
    /// Routes with their own policy, checked in order; the first match wins.
    pub routes: Vec<RouteRule>,
    /// Policy for signed-in callers (bearer token or API key) on other routes.
    pub authenticated_policy: String,
    /// Policy for everyone else on other routes.
    pub anonymous_policy: String,
    /// Path prefixes never limited.
    pub exempt: Vec<String>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            fail_open: true,
            policies: builtin_policies(),
            // The console's sign-in is a login like the API's.
            routes: ["/auth/login", "/admin/login"]
                .map(|path| RouteRule {
                    path: path.into(),
                    methods: vec!["POST".into()],
                    policy: "login".into(),
                })
                .to_vec(),
            authenticated_policy: "authenticated".into(),
            anonymous_policy: "public".into(),
            exempt: [
                "/health",
                "/ready",
                "/metrics",
                "/docs",
                "/openapi.json",
                "/admin/static",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// How a policy tells callers apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyKind {
    /// The client address (IPv6 by /64).
    #[serde(rename = "ip")]
    Ip,
    /// The signed-in user (or API key); anonymous callers fall back to their address.
    #[serde(rename = "user")]
    User,
    /// The API key; other callers fall back to their address.
    #[serde(rename = "api_key")]
    ApiKey,
    /// Address and the `email` of a JSON body: one guesser cannot lock out everyone.
    #[serde(rename = "ip+email")]
    IpEmail,
}

/// `quota` requests per `period`, with up to `burst` at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    pub key: KeyKind,
    pub quota: IntIn<1, 100_000_000>,
    pub period: Duration,
    pub burst: IntIn<1, 100_000_000>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// Path prefix, e.g. `/auth/login`.
    pub path: String,
    /// Methods it applies to; empty means all.
    #[serde(default)]
    pub methods: Vec<String>,
    pub policy: String,
}

fn policy(key: KeyKind, quota: u64, secs: u64, burst: u64) -> PolicyConfig {
    PolicyConfig {
        key,
        quota: IntIn::new_checked(quota),
        period: Duration::secs(secs),
        burst: IntIn::new_checked(burst),
    }
}

/// The guides' numbers: 100 per minute per IP, 5 logins per minute per IP and email,
/// 1000 per minute for signed-in callers.
fn builtin_policies() -> BTreeMap<String, PolicyConfig> {
    BTreeMap::from([
        ("public".to_string(), policy(KeyKind::Ip, 100, 60, 100)),
        ("login".to_string(), policy(KeyKind::IpEmail, 5, 60, 5)),
        (
            "authenticated".to_string(),
            policy(KeyKind::User, 1000, 60, 1000),
        ),
    ])
}

fn with_builtin_policies<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, PolicyConfig>, D::Error> {
    let mut policies = builtin_policies();
    policies.extend(BTreeMap::<String, PolicyConfig>::deserialize(d)?);
    Ok(policies)
}

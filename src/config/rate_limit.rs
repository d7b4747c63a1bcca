//! The `[rate_limit]` section: named policies and the routes they guard.

use super::{ConfigError, Duration, IntIn, KeyKind};
use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Off: nothing is limited and no RateLimit headers are sent.
    pub enabled: bool,
    /// When Redis fails: true = fall back to per-process limits; false = answer 503.
    pub fail_open: bool,
    /// Named policies. `public`, `login_ip`, `login`, `authenticated`, `password_reset_ip`,
    /// `password_reset` and `verify_resend` always exist;
    /// redefine them here (all four fields) or add more.
    #[serde(deserialize_with = "with_builtin_policies")]
    pub policies: BTreeMap<String, PolicyConfig>,
    /// Routes with their own policies, checked in order: the first matching rule's policies
    /// (all of them) apply, and no later rule nor the default policies.
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
            routes: builtin_routes(),
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

/// The login rules (the console's sign-in is a login like the API's) and the account
/// self-service ones. Rules match by prefix, so the reset confirmation comes before the
/// reset request.
fn builtin_routes() -> Vec<RouteRule> {
    let post = |path: &str, policies: &[&str]| RouteRule {
        path: path.into(),
        methods: vec!["POST".into()],
        policies: policies.iter().map(|p| p.to_string()).collect(),
    };
    vec![
        post("/auth/login", &["login_ip", "login"]),
        post("/admin/login", &["login_ip", "login"]),
        post("/auth/password-reset/confirm", &["login_ip"]),
        post(
            "/auth/password-reset",
            &["password_reset_ip", "password_reset"],
        ),
        post("/auth/verify-email/resend", &["verify_resend"]),
    ]
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
    /// Policies that must each allow the request. `policy = "name"`, the older spelling,
    /// is a list of one.
    #[serde(alias = "policy", deserialize_with = "one_or_many")]
    pub policies: Vec<String>,
}

/// A policy name or a list of them.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Names;
    impl<'de> Visitor<'de> for Names {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a policy name or a list of policy names")
        }
        fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
            Ok(vec![name.to_string()])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut names = Vec::new();
            while let Some(name) = seq.next_element()? {
                names.push(name);
            }
            Ok(names)
        }
    }
    d.deserialize_any(Names)
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
/// 1000 per minute for signed-in callers; and 30 logins per minute (10 at once) per IP
/// whatever the email, so spraying many accounts from one address (or IPv6 /64) is slowed.
fn builtin_policies() -> BTreeMap<String, PolicyConfig> {
    let ip_email = KeyKind::BodyField {
        field: "email".into(),
        with_ip: true,
    };
    BTreeMap::from([
        ("public".to_string(), policy(KeyKind::Ip, 100, 60, 100)),
        ("login_ip".to_string(), policy(KeyKind::Ip, 30, 60, 10)),
        ("login".to_string(), policy(ip_email, 5, 60, 5)),
        (
            "authenticated".to_string(),
            policy(KeyKind::User, 1000, 60, 1000),
        ),
        // Reset emails: 10 an hour per address (IPv6 /64), 3 an hour per email whoever asks,
        // so nobody floods a mailbox; resends of the verification email, 5 an hour per user.
        (
            "password_reset_ip".to_string(),
            policy(KeyKind::Ip, 10, 3600, 5),
        ),
        (
            "password_reset".to_string(),
            policy(
                KeyKind::BodyField {
                    field: "email".into(),
                    with_ip: false,
                },
                3,
                3600,
                3,
            ),
        ),
        (
            "verify_resend".to_string(),
            policy(KeyKind::User, 5, 3600, 3),
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

impl RateLimitConfig {
    /// Every policy named exists, every route names at least one, no period is zero.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let named = |key: &str, name: &str| {
            if self.policies.contains_key(name) {
                Ok(())
            } else {
                let known: Vec<&str> = self.policies.keys().map(String::as_str).collect();
                Err(ConfigError::key(
                    key,
                    format!("no policy named {name:?} (policies: {})", known.join(", ")),
                ))
            }
        };
        named(
            "rate_limit.authenticated_policy",
            &self.authenticated_policy,
        )?;
        named("rate_limit.anonymous_policy", &self.anonymous_policy)?;
        for (i, route) in self.routes.iter().enumerate() {
            let key = format!("rate_limit.routes[{i}].policies");
            if route.policies.is_empty() {
                return Err(ConfigError::key(key, "expected at least one policy name"));
            }
            for name in &route.policies {
                named(&key, name)?;
            }
        }
        for (name, policy) in &self.policies {
            if policy.period.get().is_zero() {
                return Err(ConfigError::key(
                    format!("rate_limit.policies.{name}.period"),
                    "expected a duration above zero",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::load::error_of;
    use crate::config::Config;

    fn parse(text: &str) -> Config {
        super::super::load::from_toml_str(text, std::iter::empty()).expect("valid config")
    }

    #[test]
    fn a_route_names_several_policies_or_one_in_the_older_form() {
        let config = parse(
            "[[rate_limit.routes]]\npath = \"/auth/login\"\npolicies = [\"login_ip\", \"login\"]\n\
             [[rate_limit.routes]]\npath = \"/posts\"\npolicy = \"public\"\n",
        );
        let names: Vec<&[String]> = config
            .rate_limit
            .routes
            .iter()
            .map(|r| r.policies.as_slice())
            .collect();
        assert_eq!(names, [&["login_ip", "login"][..], &["public"][..]]);
    }

    #[test]
    fn the_default_login_route_checks_the_address_and_the_address_with_email() {
        let routes = Config::default().rate_limit.routes;
        assert_eq!(routes[0].policies, ["login_ip", "login"]);
    }

    #[test]
    fn unknown_policies_and_bad_key_kinds_are_named() {
        let err = error_of(
            "[[rate_limit.routes]]\npath = \"/auth/login\"\npolicies = [\"login\", \"nope\"]\n",
        );
        assert!(
            err.starts_with("rate_limit.routes[0].policies: no policy named \"nope\""),
            "{err}"
        );
        let err = error_of("[[rate_limit.routes]]\npath = \"/x\"\npolicies = []\n");
        assert_eq!(
            err,
            "rate_limit.routes[0].policies: expected at least one policy name"
        );
        let err = error_of(
            "[rate_limit.policies.reset]\nkey = \"email\"\nquota = 1\nperiod = \"1m\"\nburst = 1\n",
        );
        assert!(
            err.starts_with("rate_limit.policies.reset.key: expected \"ip\""),
            "{err}"
        );
    }
}

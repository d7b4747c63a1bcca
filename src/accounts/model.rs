//! What account tokens are for, why one is refused, and the links that carry them.

use crate::config::Config;

crate::stored_enum! {
    /// What an account token is for. A `change_email` token holds the address it confirms.
    pub enum Purpose {
        PasswordReset,
        VerifyEmail,
        ChangeEmail,
    }
}

/// Why a presented token does not work; each has its own `detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Never issued (or for another purpose, or pruned long after it ended).
    Unknown,
    Used,
    Expired,
    /// A newer link of its kind was sent, or the password changed since.
    Superseded,
}

impl Refusal {
    pub fn detail(self) -> &'static str {
        match self {
            Refusal::Unknown => {
                "the link is not valid; check that it was copied whole, or ask for a new one"
            }
            Refusal::Used => "the link was already used; ask for a new one",
            Refusal::Expired => "the link has expired; ask for a new one",
            Refusal::Superseded => {
                "the link was replaced by a newer one (or the password changed since); use the newest link or ask for a new one"
            }
        }
    }
}

/// Builds the links in account emails: `server.public_url` (empty, so relative, when unset:
/// only the dev outbox then receives mail) and the `mail.links` template of the flow.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
    password_reset: String,
    verify_email: String,
    change_email: String,
}

impl Links {
    pub fn new(config: &Config) -> Self {
        let base = config.server.public_url.as_deref().unwrap_or_default();
        Self {
            base: base.trim_end_matches('/').to_string(),
            password_reset: config.mail.links.password_reset.clone(),
            verify_email: config.mail.links.verify_email.clone(),
            change_email: config.mail.links.change_email.clone(),
        }
    }

    /// The link that hands `token` to the front-end page of `purpose`'s flow. Tokens are
    /// URL-safe base64, so they need no escaping.
    pub fn to(&self, purpose: Purpose, token: &str) -> String {
        let template = match purpose {
            Purpose::PasswordReset => &self.password_reset,
            Purpose::VerifyEmail => &self.verify_email,
            Purpose::ChangeEmail => &self.change_email,
        };
        format!("{}{}", self.base, template.replacen("{token}", token, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_join_the_public_url_and_the_flow_template() {
        let mut config = Config::default();
        config.server.public_url = Some("https://shop.example/".into());
        config.mail.links.verify_email = "/account/verify/{token}".into();
        let links = Links::new(&config);
        assert_eq!(
            links.to(Purpose::PasswordReset, "abc-_1"),
            "https://shop.example/reset-password?token=abc-_1"
        );
        assert_eq!(
            links.to(Purpose::VerifyEmail, "xyz"),
            "https://shop.example/account/verify/xyz"
        );
        assert_eq!(
            links.to(Purpose::ChangeEmail, "c"),
            "https://shop.example/confirm-email?token=c"
        );
        config.server.public_url = None;
        assert_eq!(
            Links::new(&config).to(Purpose::PasswordReset, "t"),
            "/reset-password?token=t"
        );
    }
}

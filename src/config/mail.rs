//! The `[mail]` section: outgoing email (SMTP, or the database outbox when unset).

use super::{ConfigError, Duration};
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// SMTP server: `smtps://user:pass@host:465` (TLS), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS) or `smtp://host:25` (plain, for local relays). Unset: messages are kept in
    /// the `mail_outbox` table, readable by admins at `GET /mail/outbox` (a dev mailbox).
    pub smtp_url: Option<String>,
    /// The sender, as a mailbox: `Name <address>` or a bare address.
    pub from: String,
    /// Longest time one SMTP command may take.
    pub timeout: Duration,
    /// The site's name as emails show it ("Welcome to …").
    pub site_name: String,
    /// Where the links in account emails point: a path (and query) on the shop's front end,
    /// appended to `server.public_url`, with `{token}` where the token goes.
    pub links: MailLinks,
}

/// Per-flow link templates (`mail.links.*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailLinks {
    /// The page that asks for a new password and posts it to `/auth/password-reset/confirm`.
    pub password_reset: String,
    /// The page that posts the token to `/auth/verify-email`.
    pub verify_email: String,
    /// The page that posts the token to `/auth/email-change/confirm`.
    pub change_email: String,
}

impl Default for MailLinks {
    fn default() -> Self {
        Self {
            password_reset: "/reset-password?token={token}".into(),
            verify_email: "/verify-email?token={token}".into(),
            change_email: "/confirm-email?token={token}".into(),
        }
    }
}

/// Longest link template accepted.
const MAX_LINK_LEN: usize = 512;

impl MailLinks {
    fn validate(&self) -> Result<(), ConfigError> {
        for (key, template) in [
            ("mail.links.password_reset", &self.password_reset),
            ("mail.links.verify_email", &self.verify_email),
            ("mail.links.change_email", &self.change_email),
        ] {
            let valid = template.starts_with('/')
                && !template.starts_with("//")
                && template.len() <= MAX_LINK_LEN
                && template.matches("{token}").count() == 1
                && !template.contains('#')
                && template.chars().all(|c| c.is_ascii_graphic());
            if !valid {
                return Err(ConfigError::key(
                    key,
                    format!(
                        "expected a path with one {{token}}, like \"/reset-password?token={{token}}\" \
                         (no spaces or fragment, at most {MAX_LINK_LEN} characters), got {template:?}"
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Levee <no-reply@localhost>".into(),
            timeout: Duration::secs(10),
            site_name: "Levee".into(),
            links: MailLinks::default(),
        }
    }
}

impl MailConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.smtp_url {
            // lettre's own parser, so anything accepted here also builds the transport.
            if let Err(e) = AsyncSmtpTransport::<Tokio1Executor>::from_url(url) {
                return Err(ConfigError::key(
                    "mail.smtp_url",
                    format!(
                        "expected \"smtps://user:pass@host:465\", \"smtp://host:587?tls=required\" \
                         or \"smtp://host:25\", got {:?} ({e})",
                        super::redact_url(url)
                    ),
                ));
            }
        }
        if let Err(e) = self.from.parse::<lettre::message::Mailbox>() {
            return Err(ConfigError::key(
                "mail.from",
                format!(
                    "expected a mailbox like \"Shop <no-reply@shop.example>\", got {:?} ({e})",
                    self.from
                ),
            ));
        }
        self.links.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::super::load::{error_of, from_toml_str};

    #[test]
    fn a_bad_smtp_url_names_the_key_and_the_form_without_the_password() {
        let err = error_of("[mail]\nsmtp_url = \"smtpx://user:hunter2@mail.example\"");
        assert!(
            err.starts_with("mail.smtp_url: expected \"smtps://"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn smtp_urls_lettre_accepts_are_accepted() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtps://user:pass@mail.example:465",
            "smtp://user:pass@mail.example:587?tls=required",
        ] {
            let text = format!(
                "[server]\npublic_url = \"https://shop.example\"\n[mail]\nsmtp_url = \"{url}\""
            );
            assert!(from_toml_str(&text, std::iter::empty()).is_ok(), "{url}");
        }
    }

    #[test]
    fn link_templates_are_paths_with_one_token() {
        for bad in [
            "reset?token={token}",
            "/reset",
            "/r?a={token}&b={token}",
            "//evil.example/{token}",
            "/a b/{token}",
        ] {
            let err = error_of(&format!("[mail.links]\npassword_reset = {bad:?}"));
            assert!(
                err.starts_with("mail.links.password_reset: expected a path with one {token}"),
                "{bad}: {err}"
            );
        }
        assert!(
            from_toml_str(
                "[mail.links]\nverify_email = \"/account/verify/{token}\"",
                std::iter::empty()
            )
            .is_ok()
        );
    }

    #[test]
    fn the_sender_must_be_a_mailbox() {
        assert!(error_of("[mail]\nfrom = \"nobody\"").starts_with("mail.from: expected a mailbox"));
    }
}

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
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Levee <no-reply@localhost>".into(),
            timeout: Duration::secs(10),
            site_name: "Levee".into(),
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
        Ok(())
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
            let text = format!("[mail]\nsmtp_url = \"{url}\"");
            assert!(from_toml_str(&text, std::iter::empty()).is_ok(), "{url}");
        }
    }

    #[test]
    fn the_sender_must_be_a_mailbox() {
        assert!(error_of("[mail]\nfrom = \"nobody\"").starts_with("mail.from: expected a mailbox"));
    }
}

//! Checks that serde cannot express: URL schemes, filters, origins.

use super::redact::redact_url;
use super::{Config, ConfigError};

impl Config {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let db = &self.database;
        let on_postgres = is_postgres(&db.url);
        if !on_postgres && !db.url.starts_with("sqlite:") {
            return Err(ConfigError::key(
                "database.url",
                format!(
                    "expected \"sqlite:PATH\" or \"postgres://…\", got {:?}",
                    redact_url(&db.url)
                ),
            ));
        }
        for (key, url) in db
            .direct_url
            .iter()
            .map(|u| ("database.direct_url", u))
            .chain(db.replicas.iter().map(|u| ("database.replicas", u)))
        {
            if !on_postgres {
                return Err(ConfigError::key(
                    key,
                    "only valid when database.url is PostgreSQL",
                ));
            }
            if !is_postgres(url) {
                return Err(ConfigError::key(
                    key,
                    format!("expected \"postgres://…\", got {:?}", redact_url(url)),
                ));
            }
        }
        // Intervals of background probes: shorter ones would hammer the dependencies.
        for (key, interval) in [
            ("database.replica_check_interval", db.replica_check_interval),
            ("server.ready_interval", self.server.ready_interval),
        ] {
            if interval.get() < std::time::Duration::from_millis(50) {
                return Err(ConfigError::key(
                    key,
                    "expected a duration of at least \"50ms\"",
                ));
            }
        }
        // A shorter cool-down would probe a dead primary almost without pause.
        if db.breaker.open_for.get() < std::time::Duration::from_millis(100) {
            return Err(ConfigError::key(
                "database.breaker.open_for",
                "expected a duration of at least \"100ms\"",
            ));
        }
        if let Some(url) = &self.redis.url
            && !["redis://", "rediss://", "redis+unix://"]
                .iter()
                .any(|s| url.starts_with(s))
        {
            return Err(ConfigError::key(
                "redis.url",
                format!("expected \"redis://host:port\", got {:?}", redact_url(url)),
            ));
        }
        self.log.validate()?;
        if self.auth.refresh_grace.get() > std::time::Duration::from_secs(30) {
            return Err(ConfigError::key(
                "auth.refresh_grace",
                "expected a duration of at most \"30s\"",
            ));
        }
        if self.auth.issuer.is_empty() || self.auth.audience.is_empty() {
            return Err(ConfigError::key(
                "auth",
                "issuer and audience must not be empty",
            ));
        }
        self.auth.validate()?;
        self.admin.validate()?;
        self.idempotency.validate()?;
        self.rate_limit.validate()?;
        self.jobs.validate()?;
        for (i, entry) in self.jobs.cron.iter().enumerate() {
            if let Err(e) = entry.schedule.parse::<croner::Cron>() {
                return Err(ConfigError::key(
                    format!("jobs.cron[{i}].schedule"),
                    format!("expected a cron expression like \"*/5 * * * *\" ({e})"),
                ));
            }
            if self.jobs.cron[..i]
                .iter()
                .any(|other| other.name == entry.name)
            {
                return Err(ConfigError::key(
                    format!("jobs.cron[{i}].name"),
                    format!("{:?} is used twice", entry.name),
                ));
            }
        }
        self.mail.validate()?;
        self.providers.validate()?;
        self.resilience.validate()?;
        self.reports.validate()?;
        self.webhooks.validate()?;
        for origin in &self.server.cors_origins {
            let valid = origin == "*"
                || url::Url::parse(origin).is_ok_and(|u| {
                    matches!(u.scheme(), "http" | "https")
                        && u.path() == "/"
                        && !origin.ends_with('/')
                });
            if !valid {
                return Err(ConfigError::key(
                    "server.cors_origins",
                    format!(
                        "expected origins like \"https://shop.example\" or \"*\", got {origin:?}"
                    ),
                ));
            }
        }
        if let Some(url) = &self.server.public_url
            && !is_public_url(url)
        {
            return Err(ConfigError::key(
                "server.public_url",
                format!(
                    "expected an absolute http(s) URL without a path, like \"https://shop.example\", got {:?}",
                    redact_url(url)
                ),
            ));
        }
        // Emails leave the site only over SMTP; their links need an absolute base.
        if self.mail.smtp_url.is_some() && self.server.public_url.is_none() {
            return Err(ConfigError::key(
                "server.public_url",
                "required when mail.smtp_url is set: links in emails are built on it \
                 (e.g. \"https://shop.example\")",
            ));
        }
        Ok(())
    }
}

/// An http(s) URL naming only where levee is reached: links are built by appending to it,
/// so it carries no path, query, fragment or credentials.
fn is_public_url(raw: &str) -> bool {
    url::Url::parse(raw).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.has_host()
            && u.path() == "/"
            && u.query().is_none()
            && u.fragment().is_none()
            && u.username().is_empty()
            && u.password().is_none()
    })
}

pub(super) fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use super::super::load::error_of;

    #[test]
    fn database_url_must_name_a_supported_backend() {
        assert!(error_of("[database]\nurl = \"mysql://u:pw@h/db\"").starts_with(
            "database.url: expected \"sqlite:PATH\" or \"postgres://…\", got \"mysql://u:redacted@h/db\""
        ));
    }

    #[test]
    fn replicas_need_a_postgres_primary() {
        let err = error_of("[database]\nreplicas = [\"postgres://r/db\"]");
        assert_eq!(
            err,
            "database.replicas: only valid when database.url is PostgreSQL"
        );
    }

    #[test]
    fn a_breaker_cool_down_below_100ms_is_rejected() {
        assert_eq!(
            error_of("[database.breaker]\nopen_for = \"10ms\""),
            "database.breaker.open_for: expected a duration of at least \"100ms\""
        );
        assert!(
            error_of("[database.breaker]\nfailure_threshold = 0")
                .contains("expected integer 1..=1000, got 0")
        );
    }

    #[test]
    fn bad_log_filter_and_origin_are_rejected() {
        assert!(
            error_of("[log]\nlevel = \"levee=loud\"").starts_with("log.level: expected a level")
        );
        assert_eq!(
            error_of("[log]\naccess_sample = 1.5"),
            "log.access_sample: expected a share from 0.0 to 1.0, got 1.5"
        );
        assert!(
            error_of("[server]\ncors_origins = [\"shop.example\"]")
                .starts_with("server.cors_origins")
        );
    }

    #[test]
    fn probe_intervals_below_50ms_are_rejected() {
        assert_eq!(
            error_of("[server]\nready_interval = \"10ms\""),
            "server.ready_interval: expected a duration of at least \"50ms\""
        );
    }

    #[test]
    fn smtp_without_a_public_url_names_the_key() {
        let err = error_of("[mail]\nsmtp_url = \"smtp://127.0.0.1:2525\"");
        assert!(
            err.starts_with("server.public_url: required when mail.smtp_url is set"),
            "{err}"
        );
        let with_url = "[server]\npublic_url = \"https://shop.example\"\n[mail]\nsmtp_url = \"smtp://127.0.0.1:2525\"";
        assert!(super::super::load::from_toml_str(with_url, std::iter::empty()).is_ok());
    }

    #[test]
    fn public_url_is_an_http_origin_with_at_most_a_slash() {
        for good in ["https://shop.example", "http://127.0.0.1:8080/"] {
            let toml = format!("[server]\npublic_url = {good:?}");
            let config = super::super::load::from_toml_str(&toml, std::iter::empty());
            assert!(config.is_ok(), "{good}: {config:?}");
        }
        for bad in [
            "shop.example",
            "ftp://shop.example",
            "https://shop.example/api",
            "https://shop.example/?x=1",
            "https://shop.example/#top",
            "https://user:pw@shop.example",
        ] {
            let err = error_of(&format!("[server]\npublic_url = {bad:?}"));
            assert!(
                err.starts_with("server.public_url: expected an absolute http(s) URL"),
                "{bad}: {err}"
            );
            assert!(!err.contains("pw@"), "{err}");
        }
    }
}

//! The effective config with secrets hidden, for `--print-config` and the console's
//! settings page. The secret-bearing keys are `database.url`, `database.direct_url`,
//! `database.replicas`, `redis.url` and `mail.smtp_url` (credentials inside URLs) and
//! `metrics.token`; the JWT signing keys live in the database, not in the config.

use super::Config;

/// Keys (and URL query parameters) ending in one of these hold a secret. `pass` is
/// redis-rs' query parameter for the password of a `redis+unix://` socket.
const SECRET_SUFFIXES: [&str; 4] = ["token", "password", "secret", "pass"];

/// What a hidden value reads as.
const REDACTED: &str = "redacted";

pub fn redacted_toml(config: &Config) -> String {
    toml::to_string_pretty(&redacted(config)).unwrap_or_default()
}

/// The config as a TOML value with every secret replaced.
pub fn redacted(config: &Config) -> toml::Value {
    let mut value = toml::Value::try_from(config).unwrap_or(toml::Value::Table(toml::Table::new()));
    redact(&mut value, "");
    value
}

fn redact(value: &mut toml::Value, key: &str) {
    match value {
        toml::Value::Table(table) => table.iter_mut().for_each(|(k, v)| redact(v, k)),
        toml::Value::Array(items) => items.iter_mut().for_each(|v| redact(v, key)),
        toml::Value::String(s) if is_secret(key) => {
            *s = format!("[{REDACTED}]");
        }
        toml::Value::String(s) => *s = redact_url(s),
        _ => {}
    }
}

/// The URL with any password replaced, safe to print or log: the userinfo
/// password and query parameters such as `?password=` (libpq and redis
/// clients accept credentials there too).
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return redact_unparsed(raw);
    };
    let secret_query = url.query_pairs().any(|(k, _)| is_secret(&k));
    if url.password().is_none() && !secret_query {
        return raw.to_string();
    }
    if url.password().is_some() {
        let _ = url.set_password(Some(REDACTED));
    }
    if secret_query {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret(&k) {
                    REDACTED.into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// A string the URL parser refused (a bad port, say) may still carry `user:pass@`: hide
/// the whole userinfo rather than print it.
fn redact_unparsed(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{REDACTED}{}", &rest[at..]),
        None => raw.to_string(),
    }
}

fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_SUFFIXES.iter().any(|suffix| key.ends_with(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_and_tokens_are_hidden() {
        let mut config = Config::default();
        config.database.url = "postgres://app:hunter2@db:5432/levee".into();
        config.database.replicas = vec!["postgres://app:hunter3@replica/levee".into()];
        config.metrics.token = Some("scrape-secret".into());
        config.mail.smtp_url = Some("smtps://mailer:hunter4@mail.example:465".into());
        let shown = redacted_toml(&config);
        for secret in ["hunter2", "hunter3", "scrape-secret", "hunter4"] {
            assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
        }
        assert!(shown.contains("postgres://app:redacted@db:5432/levee"));
    }

    #[test]
    fn passwords_in_url_query_strings_are_hidden() {
        let mut config = Config::default();
        config.database.url = "postgres://app@db/levee?sslmode=require&password=hunter5".into();
        config.redis.url = Some("redis://cache:6379/0?password=hunter6".into());
        let shown = redacted_toml(&config);
        for secret in ["hunter5", "hunter6"] {
            assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
        }
        assert!(shown.contains("postgres://app@db/levee?sslmode=require&password=redacted"));
    }

    #[test]
    fn every_secret_bearing_key_is_hidden() {
        let mut config = Config::default();
        config.database.url = "postgres://app:s3cret-url@db/levee".into();
        config.database.direct_url = Some("postgres://app:s3cret-direct@db:6432/levee".into());
        config.database.replicas = vec!["postgres://app:s3cret-replica@r1/levee".into()];
        config.redis.url = Some("redis://:s3cret-redis@cache:6379/0".into());
        config.mail.smtp_url = Some("smtp://mailer:s3cret-smtp@mail.example:587".into());
        config.metrics.token = Some("s3cret-metrics".into());
        let shown = redacted_toml(&config);
        assert!(!shown.contains("s3cret"), "a secret leaked:\n{shown}");
        let unix = "redis+unix:///run/redis.sock?db=1&pass=s3cret-socket";
        assert!(!redact_url(unix).contains("s3cret"), "{}", redact_url(unix));
    }

    #[test]
    fn credentials_in_urls_the_parser_refuses_are_hidden() {
        let shown = redact_url("postgres://app:s3cret@db:99999/levee");
        assert_eq!(shown, "postgres://redacted@db:99999/levee");
        assert_eq!(redact_url("sqlite:data/levee.db"), "sqlite:data/levee.db");
        assert_eq!(
            redact_url("postgres://db:99999/a@b"),
            "postgres://db:99999/a@b"
        );
    }
}

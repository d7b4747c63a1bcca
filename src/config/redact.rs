//! `--print-config`: the effective config as TOML with secrets hidden.

use super::Config;

const SECRET_SUFFIXES: [&str; 3] = ["token", "password", "secret"];

pub fn redacted_toml(config: &Config) -> String {
    let mut value = toml::Value::try_from(config).unwrap_or(toml::Value::Table(toml::Table::new()));
    redact(&mut value, "");
    toml::to_string_pretty(&value).unwrap_or_default()
}

fn redact(value: &mut toml::Value, key: &str) {
    match value {
        toml::Value::Table(table) => table.iter_mut().for_each(|(k, v)| redact(v, k)),
        toml::Value::Array(items) => items.iter_mut().for_each(|v| redact(v, key)),
        toml::Value::String(s) if is_secret(key) => {
            *s = "[redacted]".into();
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
        return raw.to_string();
    };
    let secret_query = url.query_pairs().any(|(k, _)| is_secret(&k));
    if url.password().is_none() && !secret_query {
        return raw.to_string();
    }
    if url.password().is_some() {
        let _ = url.set_password(Some("redacted"));
    }
    if secret_query {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret(&k) {
                    "redacted".into()
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
}

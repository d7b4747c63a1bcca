//! `--print-config`: the effective config as TOML with secrets hidden.

use super::Config;
use super::validate::redact_url;

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
        toml::Value::String(s) if SECRET_SUFFIXES.iter().any(|suffix| key.ends_with(suffix)) => {
            *s = "[redacted]".into();
        }
        toml::Value::String(s) => *s = redact_url(s),
        _ => {}
    }
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
}

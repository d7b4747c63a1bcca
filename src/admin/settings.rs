//! The settings page: the effective configuration with every secret redacted (by
//! `config::redacted`, the same redaction as `--print-config`), the version and git
//! revision as `levee --version` prints them, and the schema migrations with when each
//! was applied, pending ones flagged.

use super::pages::Chrome;
use super::service::Staff;
use super::users::shown_time;
use crate::config::Config;
use crate::db::migrate::{self, MigrationState};
use crate::state::AppState;
use askama::Template;
use sea_orm::DbErr;

/// One `key = value` of the configuration; nested tables are flattened to dotted keys.
pub struct Setting {
    pub key: String,
    pub value: String,
}

/// A top-level section (`[database]`, …) of the configuration.
pub struct Section {
    pub name: String,
    pub settings: Vec<Setting>,
}

/// The configuration by section, secrets redacted.
pub fn sections(config: &Config) -> Vec<Section> {
    let toml::Value::Table(top) = crate::config::redacted(config) else {
        return Vec::new();
    };
    top.into_iter()
        .map(|(name, value)| {
            let mut settings = Vec::new();
            flatten("", value, &mut settings);
            Section { name, settings }
        })
        .collect()
}

fn flatten(prefix: &str, value: toml::Value, out: &mut Vec<Setting>) {
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                let key = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&key, value, out);
            }
        }
        other => out.push(Setting {
            key: prefix.to_string(),
            value: other.to_string(),
        }),
    }
}

/// One migration this binary knows.
pub struct MigrationRow {
    pub name: String,
    /// When it was applied; `None` while pending.
    pub applied_at: Option<String>,
}

impl From<MigrationState> for MigrationRow {
    fn from(state: MigrationState) -> Self {
        Self {
            applied_at: state
                .applied_at
                .map(|at| chrono::DateTime::from_timestamp(at, 0).map(shown_time))
                .map(Option::unwrap_or_default),
            name: state.name,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
pub struct SettingsPage {
    pub chrome: Chrome,
    pub version: &'static str,
    pub sections: Vec<Section>,
    pub migrations: Vec<MigrationRow>,
    pub pending: usize,
}

impl SettingsPage {
    /// Gathers the page: the migrations are read from the primary.
    pub async fn load(nonce: &str, staff: &Staff, state: &AppState) -> Result<Self, DbErr> {
        let migrations: Vec<MigrationRow> = migrate::status(state.db())
            .await?
            .into_iter()
            .map(MigrationRow::from)
            .collect();
        Ok(Self {
            chrome: Chrome::new(nonce, Some(staff)),
            version: crate::build_info::VERSION,
            sections: sections(state.config()),
            pending: migrations.iter().filter(|m| m.applied_at.is_none()).count(),
            migrations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_flatten_to_dotted_keys_without_secrets() {
        let mut config = Config::default();
        config.database.url = "postgres://app:s3cret@db/levee".into();
        config.metrics.token = Some("s3cret-token".into());
        let sections = sections(&config);
        let database = sections
            .iter()
            .find(|s| s.name == "database")
            .expect("a database section");
        let shown = |key: &str| {
            database
                .settings
                .iter()
                .find(|s| s.key == key)
                .map(|s| s.value.clone())
        };
        assert_eq!(
            shown("url").as_deref(),
            Some("\"postgres://app:redacted@db/levee\"")
        );
        assert_eq!(shown("breaker.failure_threshold").as_deref(), Some("5"));
        let everything: String = sections
            .iter()
            .flat_map(|s| &s.settings)
            .map(|s| format!("{} = {}\n", s.key, s.value))
            .collect();
        assert!(!everything.contains("s3cret"), "{everything}");
    }

    #[test]
    fn pending_migrations_are_flagged() {
        let migrations: Vec<MigrationRow> = [("m1_first", Some(0)), ("m2_second", None)]
            .into_iter()
            .map(|(name, applied_at)| {
                MigrationRow::from(MigrationState {
                    name: name.into(),
                    applied_at,
                })
            })
            .collect();
        assert_eq!(
            migrations[0].applied_at.as_deref(),
            Some("1970-01-01 00:00 UTC")
        );
        let page = SettingsPage {
            chrome: Chrome::new("nonce", None),
            version: crate::build_info::VERSION,
            sections: Vec::new(),
            pending: 1,
            migrations,
        };
        let html = page.render().expect("renders");
        assert!(
            html.contains(r#"data-field="pending">1 migration(s) pending"#),
            "{html}"
        );
        assert!(html.contains(r#"<td class="warn">m2_second</td><td class="warn">pending</td>"#));
    }
}

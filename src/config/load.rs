//! Finding, reading and layering the config: defaults ← file ← environment.

use super::Config;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Where the effective config came from (shown by `--print-config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    File(PathBuf),
    Defaults,
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {}: invalid TOML: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    #[error("{key}: {message}{}", origin.as_ref().map(|v| format!(" (set by {v})")).unwrap_or_default())]
    Key {
        key: String,
        message: String,
        origin: Option<String>,
    },
}

impl ConfigError {
    pub fn key(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Key {
            key: key.into(),
            message: message.into(),
            origin: None,
        }
    }
}

const ENV_PREFIX: &str = "LEVEE_";
const LOCAL_FILE: &str = "levee.toml";

/// Loads the config: `--config`, else `$LEVEE_CONFIG`, else `./levee.toml`, else defaults;
/// then applies `LEVEE_<SECTION>__<KEY>` overrides from the process environment.
pub fn load(flag: Option<&Path>) -> Result<(Config, ConfigSource), ConfigError> {
    let chosen = flag
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("LEVEE_CONFIG").map(PathBuf::from))
        .or_else(|| {
            Path::new(LOCAL_FILE)
                .exists()
                .then(|| PathBuf::from(LOCAL_FILE))
        });
    let (text, source) = match chosen {
        Some(path) => match std::fs::read_to_string(&path) {
            Ok(text) => (text, ConfigSource::File(path)),
            Err(source) => return Err(ConfigError::Read { path, source }),
        },
        None => (String::new(), ConfigSource::Defaults),
    };
    let config = from_toml_str(&text, std::env::vars()).map_err(|e| match (e, &source) {
        (ConfigError::Syntax { message, .. }, ConfigSource::File(path)) => ConfigError::Syntax {
            path: path.clone(),
            message,
        },
        (e, _) => e,
    })?;
    Ok((config, source))
}

/// Parses `text` and layers the `LEVEE_*__*` variables found in `env` on top.
pub(super) fn from_toml_str(
    text: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let mut table: toml::Table =
        text.parse()
            .map_err(|e: toml::de::Error| ConfigError::Syntax {
                path: PathBuf::from("<inline>"),
                message: e.to_string().trim().replace('\n', " "),
            })?;
    let mut overrides: Vec<(String, String)> = env
        .into_iter()
        .filter_map(|(name, value)| env_key(&name).map(|key| (key, (name, value))))
        .map(|(key, (name, value))| {
            set_path(&mut table, &key, parse_env_value(&value));
            (key, name)
        })
        .collect();
    overrides.sort();

    let config: Config =
        serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            let (key, message) = describe(&e.path().to_string(), e.inner().message());
            let origin = overrides
                .iter()
                .find(|(k, _)| key == *k || key.starts_with(&format!("{k}.")))
                .map(|(_, name)| name.clone());
            ConfigError::Key {
                key,
                message,
                origin,
            }
        })?;
    config.validate()?;
    Ok(config)
}

/// `LEVEE_SERVER__TLS__CERT` → `server.tls.cert`; names without `__` are not config.
fn env_key(name: &str) -> Option<String> {
    let rest = name.strip_prefix(ENV_PREFIX)?;
    if !rest.contains("__") {
        return None;
    }
    Some(
        rest.split("__")
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// An override is read as a TOML value when it is one (`9000`, `true`, `["a"]`),
/// otherwise as a plain string (`postgres://…`, `127.0.0.1`).
fn parse_env_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

fn set_path(table: &mut toml::Table, dotted: &str, value: toml::Value) {
    let mut parts: Vec<&str> = dotted.split('.').collect();
    let last = parts.pop().unwrap_or_default();
    let mut current = table;
    for part in parts {
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(next) = entry else {
            return;
        };
        current = next;
    }
    current.insert(last.to_string(), value);
}

/// Turns serde's wording into `key: what was expected`.
fn describe(path: &str, message: &str) -> (String, String) {
    let path = if path == "." { "" } else { path };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let key = match path {
            "" => field.to_string(),
            p if p.ends_with(&format!(".{field}")) || p == field => p.to_string(),
            p => format!("{p}.{field}"),
        };
        let expected = expected.trim_start_matches(", ").replace('`', "");
        let expected = expected.strip_prefix("expected ").unwrap_or(&expected);
        return (
            key,
            format!(
                "unknown key (known keys: {})",
                expected.replace("one of ", "")
            ),
        );
    }
    let message = message
        .replace("invalid type: ", "")
        .replace("invalid value: ", "");
    (path.to_string(), message)
}

/// Why `text` is refused; shared by the tests of each section's checks.
#[cfg(test)]
pub(super) fn error_of(text: &str) -> String {
    from_toml_str(text, std::iter::empty())
        .map(|_| ())
        .expect_err("the config is refused")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(text: &str, env: &[(&str, &str)]) -> Result<Config, String> {
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        from_toml_str(text, env).map_err(|e| e.to_string())
    }

    #[test]
    fn bad_value_names_the_key_and_the_expected_form() {
        let err = parse_with("[database]\nmax_connections = \"lots\"", &[]).unwrap_err();
        assert_eq!(
            err,
            "database.max_connections: expected integer 1..=1000, got \"lots\""
        );
    }

    #[test]
    fn unknown_key_is_named_with_its_section() {
        let err = parse_with("[server]\nprot = 1", &[]).unwrap_err();
        assert!(
            err.starts_with("server.prot: unknown key (known keys: host, port"),
            "{err}"
        );
        let err = parse_with("[nonsense]\na = 1", &[]).unwrap_err();
        assert!(err.starts_with("nonsense: unknown key"), "{err}");
    }

    #[test]
    fn environment_overrides_set_nested_keys() {
        let config = parse_with(
            "[server]\nport = 1",
            &[
                ("LEVEE_SERVER__PORT", "9000"),
                ("LEVEE_SERVER__TLS__CERT", "/c.pem"),
                ("LEVEE_SERVER__TLS__KEY", "/k.pem"),
            ],
        )
        .expect("valid");
        assert_eq!(config.server.port, 9000);
        assert_eq!(
            config.server.tls.map(|t| t.cert),
            Some(PathBuf::from("/c.pem"))
        );
    }

    #[test]
    fn other_levee_variables_are_not_config() {
        let config = parse_with(
            "",
            &[
                ("LEVEE_CONFIG", "/nowhere.toml"),
                ("LEVEE_TEST_DATABASE_URL", "postgres://x"),
                ("LEVEE_TEST_REDIS_URL", "x"),
            ],
        )
        .expect("ignored");
        assert_eq!(config.server.port, 8080);
    }

    #[test]
    fn a_bad_override_names_the_variable() {
        let err = parse_with("", &[("LEVEE_DATABASE__MAX_CONNECTIONS", "lots")]).unwrap_err();
        assert_eq!(
            err,
            "database.max_connections: expected integer 1..=1000, got \"lots\" (set by LEVEE_DATABASE__MAX_CONNECTIONS)"
        );
    }

    #[test]
    fn toml_syntax_errors_are_reported() {
        assert!(
            parse_with("[server", &[])
                .unwrap_err()
                .contains("invalid TOML")
        );
    }
}

//! Typed configuration: built-in defaults, then a TOML file, then `LEVEE_<SECTION>__<KEY>`
//! environment overrides. Every field documents itself; `config.example.toml` mirrors them.

mod admin;
mod auth;
mod breaker;
mod cache;
mod idempotency;
mod jobs;
mod limit_key;
mod load;
mod log;
mod mail;
mod orders;
mod rate_limit;
mod redact;
mod reports;
mod resilience;
mod validate;
mod values;
mod webhooks;

pub use admin::AdminConfig;
pub use auth::{AuthConfig, PasswordHashConfig};
pub use breaker::BreakerConfig;
pub use cache::CacheConfig;
pub use idempotency::IdempotencyConfig;
pub use jobs::{CronEntry, JobsConfig};
pub use limit_key::KeyKind;
pub use load::{ConfigError, ConfigSource, load};
pub use log::{LogConfig, LogFormat};
pub use mail::{MailConfig, MailLinks};
pub use orders::{OrdersConfig, ProviderConfig, ProviderKind, ProvidersConfig};
pub use rate_limit::{PolicyConfig, RateLimitConfig, RouteRule};
pub use redact::redact_url;
pub use redact::{redacted, redacted_toml};
pub use reports::ReportsConfig;
pub use resilience::{GuardConfig, GuardOverrides, ResilienceConfig};
pub use values::{Duration, IntIn, Size};
pub use webhooks::WebhooksConfig;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// The whole effective configuration of one levee process.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub auth: AuthConfig,
    pub rate_limit: RateLimitConfig,
    pub cache: CacheConfig,
    pub jobs: JobsConfig,
    pub mail: MailConfig,
    pub admin: AdminConfig,
    pub orders: OrdersConfig,
    pub providers: ProvidersConfig,
    pub idempotency: IdempotencyConfig,
    pub resilience: ResilienceConfig,
    pub reports: ReportsConfig,
    pub webhooks: WebhooksConfig,
}

/// The public HTTP listener.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub host: IpAddr,
    /// TCP port; 0 picks a free port.
    pub port: u16,
    /// Proxies (CIDRs) whose `forwarded_header` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// The one header the trusted proxies append the client's address to; the other is
    /// ignored, since a client can send either.
    pub forwarded_header: ForwardedHeader,
    /// Serve HTTPS with these PEM files; reloaded on SIGHUP.
    pub tls: Option<TlsConfig>,
    /// Longest time one request may take before it is answered with 503.
    pub request_timeout: Duration,
    /// Longest time a client may take to send a request's headers (slowloris guard).
    pub header_read_timeout: Duration,
    /// How long in-flight requests may run on after SIGTERM before they are cut.
    pub shutdown_timeout: Duration,
    /// Largest accepted request body.
    pub max_body: Size,
    /// Requests processed at once; beyond this levee sheds load with 503 + Retry-After.
    pub max_in_flight: IntIn<1, 1_000_000>,
    /// Origins allowed to call the API from a browser (CORS). Empty: no CORS headers.
    pub cors_origins: Vec<String>,
    /// How often the background checker probes the dependencies `/ready` reports on;
    /// `/ready` answers from its last round, so probes cost no more than this.
    pub ready_interval: Duration,
    /// Refuse edits (PATCH, DELETE) of posts and products that send no `If-Match` with
    /// 428, so no client can overwrite a version it never read.
    pub require_if_match: bool,
    /// The absolute URL clients reach levee at (`https://shop.example`), behind any proxy:
    /// http or https, no path beyond `/`. Links levee builds start with it.
    pub public_url: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8080,
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeader::XForwardedFor,
            tls: None,
            request_timeout: Duration::secs(30),
            header_read_timeout: Duration::secs(10),
            shutdown_timeout: Duration::secs(30),
            max_body: Size::mib(1),
            max_in_flight: IntIn::new(1024),
            cors_origins: Vec::new(),
            ready_interval: Duration::secs(1),
            require_if_match: false,
            public_url: None,
        }
    }
}

impl ServerConfig {
    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }
}

/// The header naming the hops a request passed through (`server.forwarded_header`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

/// PEM certificate chain and private key for HTTPS.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The database: SQLite (embedded default) or PostgreSQL.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite:PATH` or `postgres://user:pass@host:port/db` (the primary).
    pub url: String,
    /// PostgreSQL only: a direct (not pooled by PgBouncer) URL for session features
    /// such as the migration lock. Defaults to `url`.
    pub direct_url: Option<String>,
    /// PostgreSQL streaming replicas (`postgres://…`) that serve plain reads, round-robin
    /// among the healthy ones; with none healthy, reads use the primary.
    pub replicas: Vec<String>,
    /// Connections per pool (PostgreSQL) or readers (SQLite; writes use one connection).
    pub max_connections: IntIn<1, 1000>,
    /// Connections kept open when idle.
    pub min_connections: IntIn<0, 1000>,
    /// Longest wait for a pooled connection before the request gets 503.
    pub acquire_timeout: Duration,
    /// Idle connections are closed after this long.
    pub idle_timeout: Duration,
    /// PostgreSQL `statement_timeout` for every statement levee runs.
    pub statement_timeout: Duration,
    /// Apply pending migrations when `serve` starts.
    pub auto_migrate: bool,
    /// A replica lagging more than this is taken out of rotation until it catches up.
    pub max_replica_lag: Duration,
    /// How often each replica's lag (and reachability) is sampled.
    pub replica_check_interval: Duration,
    /// After a client writes, its reads go to the primary for this long (the response
    /// carries a consistency token as a cookie and a header). `0s` turns it off.
    pub read_your_writes: Duration,
    /// The circuit breaker in front of each pool (the primary, each replica).
    pub breaker: BreakerConfig,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite:data/levee.db".into(),
            direct_url: None,
            replicas: Vec::new(),
            max_connections: IntIn::new(10),
            min_connections: IntIn::new(0),
            acquire_timeout: Duration::secs(5),
            idle_timeout: Duration::secs(600),
            statement_timeout: Duration::secs(30),
            auto_migrate: true,
            max_replica_lag: Duration::secs(1),
            replica_check_interval: Duration::secs(1),
            read_your_writes: Duration::secs(5),
            breaker: BreakerConfig::default(),
        }
    }
}

/// Redis, shared by every process of a fleet. Unset: everything stays in-process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// `redis://host:port/db`; unset means no Redis.
    pub url: Option<String>,
    /// Prepended to every key, so several deployments can share one Redis.
    pub key_prefix: String,
    /// Longest time one Redis command may take.
    pub command_timeout: Duration,
    /// After a Redis error, the cache and the rate limiter bypass Redis for this long.
    pub backoff: Duration,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: None,
            key_prefix: "levee:".into(),
            command_timeout: Duration::millis(500),
            backoff: Duration::secs(5),
        }
    }
}

/// The Prometheus `/metrics` endpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// When set, scrapers must send `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Serve `/metrics` on this separate address instead of the main listener.
    pub listen: Option<SocketAddr>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_and_matches_the_defaults() {
        let text = include_str!("../../config.example.toml");
        let parsed: Config = load::from_toml_str(text, std::iter::empty()).expect("example parses");
        let defaults = toml::to_string(&Config::default()).expect("serialize");
        assert_eq!(toml::to_string(&parsed).expect("serialize"), defaults);
    }
}

//! `levee health`: probes a running instance's `/ready`, for container HEALTHCHECKs and systemd.

use super::CliError;
use crate::config::Config;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// Base URL of the instance. Default: derived from server.host/port/tls in the config.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Give up after this long.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Accept any TLS certificate (self-signed test setups).
    #[arg(long)]
    insecure: bool,
}

pub async fn run(config: &Config, args: HealthArgs) -> Result<(), CliError> {
    let base = args.url.unwrap_or_else(|| default_url(config));
    let url = format!("{}/ready", base.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(args.timeout)
        .danger_accept_invalid_certs(args.insecure)
        .build()
        .map_err(CliError::runtime)?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| CliError::runtime(format!("{url}: {e}")))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if status.is_success() {
        println!("ready: {url}");
        Ok(())
    } else {
        let detail = body
            .get("detail")
            .and_then(|d| d.as_str())
            .unwrap_or("no detail");
        Err(CliError::runtime(format!("not ready ({status}): {detail}")))
    }
}

fn default_url(config: &Config) -> String {
    let server = &config.server;
    let host = if server.host.is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        server.host.to_string()
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let scheme = if server.tls.is_some() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}:{}", server.port)
}

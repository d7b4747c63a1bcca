//! Structured logs (tracing) and the Prometheus recorder (metrics).

use crate::config::{LogConfig, LogFormat};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::os::fd::AsFd;
use std::sync::OnceLock;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

/// Latency buckets (seconds) for every `*_seconds` histogram: real buckets, not a summary.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Keeps the non-blocking log writers alive; dropping it flushes them.
pub struct LogGuards(
    #[expect(dead_code, reason = "held only for its Drop, which flushes logs")] Vec<WorkerGuard>,
);

/// Installs the global subscriber. `RUST_LOG` overrides `log.level`.
pub fn init_logging(config: &LogConfig) -> LogGuards {
    let filter = || {
        std::env::var("RUST_LOG")
            .ok()
            .and_then(|v| EnvFilter::try_new(v).ok())
            .unwrap_or_else(|| EnvFilter::new(&config.level))
    };
    let json = match config.format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let (stdout, stdout_guard) = tracing_appender::non_blocking(buffered_stdout());
    let mut guards = vec![stdout_guard];
    let console = if json {
        json_layer(stdout).with_filter(filter()).boxed()
    } else {
        fmt::layer()
            .with_writer(stdout)
            .with_filter(filter())
            .boxed()
    };
    let file = config.file.as_ref().map(|path| {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "levee.log".into());
        let (writer, guard) = tracing_appender::non_blocking(BufWriter::with_capacity(
            WRITE_BUFFER,
            tracing_appender::rolling::daily(dir, name),
        ));
        guards.push(guard);
        json_layer(writer).with_filter(filter())
    });
    let _ = tracing_subscriber::registry()
        .with(console)
        .with(file)
        .try_init();
    LogGuards(guards)
}

/// One JSON object per line: the event's fields at the top level, the current span (the
/// request's ids) under `span`. json-subscriber writes the span's fields once, when the span
/// is made, where tracing-subscriber's JSON format re-parses them for every event.
fn json_layer<S, W>(writer: W) -> json_subscriber::fmt::Layer<S, W>
where
    S: tracing::Subscriber + for<'lookup> tracing_subscriber::registry::LookupSpan<'lookup>,
    W: for<'writer> MakeWriter<'writer> + 'static,
{
    json_subscriber::fmt::layer()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(writer)
}

/// Bytes the log writer gathers before a `write`: the log thread flushes whenever it has
/// drained its queue, so a quiet log still appears at once.
const WRITE_BUFFER: usize = 64 * 1024;

/// Standard output without `Stdout`'s line buffering, which makes one `write` per line (the
/// access log at full load cost a system call per request).
fn buffered_stdout() -> Box<dyn Write + Send> {
    match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(BufWriter::with_capacity(WRITE_BUFFER, File::from(fd))),
        Err(_) => Box::new(std::io::stdout()),
    }
}

/// The process-wide Prometheus recorder. The `metrics` facade allows one recorder per
/// process, so every app built in this process (tests build many) shares it.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
                .map(PrometheusBuilder::build_recorder)
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Another recorder may already be installed (only in tests); ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            register_event_series();
            handle
        })
        .clone()
}

/// Series that move only on an event (shedding, timeouts, Redis errors, TLS reloads,
/// login outcomes, invalidations waiting for Redis or not recorded in the database), created
/// at zero at start so dashboards and alerts see them before the first event rather than a
/// gap. Modules telemetry may not import (orders, idempotency)
/// register theirs from `app`.
fn register_event_series() {
    for name in [
        "levee_http_shed_total",
        "levee_http_timeouts_total",
        "levee_http_header_timeouts_total",
        "levee_rate_limit_backend_errors_total",
        "levee_cache_subscriber_reconnects_total",
        "levee_cache_invalidations_dropped_total",
        "levee_cache_feed_errors_total",
    ] {
        metrics::counter!(name).increment(0);
    }
    metrics::gauge!("levee_cache_invalidations_pending").set(0.0);
    for user in ["cache", "jobs"] {
        metrics::counter!("levee_redis_errors_total", "user" => user).increment(0);
    }
    for outcome in ["ok", "error"] {
        metrics::counter!("levee_tls_reloads_total", "outcome" => outcome).increment(0);
    }
    for outcome in ["success", "failure", "locked", "disabled"] {
        metrics::counter!("levee_auth_logins_total", "outcome" => outcome).increment(0);
    }
}

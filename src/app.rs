//! The application as a value: `Application::build` wires config, pools and the router and
//! binds the listener; `run_until_stopped` serves until the shutdown signal.

use crate::auth::{Auth, AuthSetupError};
use crate::cache::Cache;
use crate::config::Config;
use crate::db::{self, Db, DbError};
use crate::http::{self, tls};
use crate::jobs::{JobQueue, Registry, Workers};
use crate::rate_limit::RateLimiter;
use crate::redis_conn::RedisConn;
use metrics_exporter_prometheus::PrometheusHandle;
use poem::listener::{Acceptor, AcceptorExt, TcpAcceptor};
use poem::{EndpointExt, Route, Server};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use thiserror::Error;

/// How long each readiness check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Error)]
pub enum AppError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Schema(#[from] db::migrate::SchemaError),
    #[error(transparent)]
    Auth(#[from] AuthSetupError),
    #[error("redis.url: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    Jobs(#[from] crate::jobs::RegistryError),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

/// Everything a request handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: Config,
    db: Db,
    auth: Auth,
    rate_limiter: RateLimiter,
    cache: Cache,
    jobs: JobQueue,
    redis: Option<RedisConn>,
    metrics: PrometheusHandle,
    started: Instant,
    shutting_down: AtomicBool,
}

impl AppState {
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    pub fn auth(&self) -> &Auth {
        &self.0.auth
    }

    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.0.rate_limiter
    }

    pub fn jobs(&self) -> &JobQueue {
        &self.0.jobs
    }

    pub fn cache(&self) -> &Cache {
        &self.0.cache
    }

    pub fn redis(&self) -> Option<&RedisConn> {
        self.0.redis.as_ref()
    }

    pub fn metrics(&self) -> &PrometheusHandle {
        &self.0.metrics
    }

    pub fn uptime(&self) -> Duration {
        self.0.started.elapsed()
    }

    /// Turns `/ready` to 503 so load balancers drain this instance.
    pub fn begin_shutdown(&self) {
        self.0.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Each dependency and `ok` or the reason it failed.
    pub async fn readiness_checks(&self) -> BTreeMap<String, String> {
        let mut checks = BTreeMap::new();
        if self.0.shutting_down.load(Ordering::SeqCst) {
            checks.insert("lifecycle".into(), "shutting down".into());
        }
        let database = bounded(self.db().ping()).await;
        let schema_ok = database.is_ok();
        checks.insert("database".into(), outcome(database));
        if schema_ok {
            checks.insert(
                "migrations".into(),
                outcome(bounded(db::migrate::check(self.db())).await),
            );
        }
        if let Some(redis) = self.redis() {
            checks.insert("redis".into(), outcome(bounded(redis.ping()).await));
        }
        checks
    }
}

async fn bounded<T, E: std::fmt::Display>(
    check: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {}s", CHECK_TIMEOUT.as_secs())),
    }
}

fn outcome<T>(result: Result<T, String>) -> String {
    result.map_or_else(|e| e, |_| "ok".into())
}

/// A built, bound application, ready to serve.
pub struct Application {
    state: AppState,
    listener: tokio::net::TcpListener,
    metrics_listener: Option<tokio::net::TcpListener>,
    addr: SocketAddr,
    extra: Option<(String, poem::endpoint::BoxEndpoint<'static>)>,
    registry: Registry,
}

impl Application {
    /// Connects pools, checks (or applies) migrations and binds the listener(s).
    pub async fn build(config: Config) -> Result<Self, AppError> {
        if let Some(tls) = &config.server.tls {
            tls::load(tls)?;
        }
        let db = Db::connect(&config.database).await?;
        if config.database.auto_migrate {
            let applied = db::migrate::up(&db).await?;
            if !applied.is_empty() {
                tracing::info!(migrations = ?applied, "applied pending migrations");
            }
        }
        db::migrate::check(&db).await?;
        let auth = Auth::load(&config.auth, &db).await?;
        let redis = match &config.redis.url {
            Some(url) => Some(RedisConn::open(&config.redis, url)?),
            None => None,
        };
        let rate_limiter = RateLimiter::new(&config.rate_limit, redis.clone());
        // A replica in rotation trails by at most max_replica_lag, plus one sample.
        let replica_lag = (!config.database.replicas.is_empty()).then(|| {
            config.database.max_replica_lag.get() + config.database.replica_check_interval.get()
        });
        let cache = Cache::new(&config.cache, redis.clone(), replica_lag);
        let bind = |addr: SocketAddr| async move {
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| AppError::Bind { addr, source })
        };
        let listener = bind(config.server.listen_addr()).await?;
        let metrics_listener = match config.metrics.listen {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        let addr = listener.local_addr().map_err(AppError::Serve)?;
        let state = AppState(Arc::new(Inner {
            config,
            auth,
            rate_limiter,
            cache,
            jobs: JobQueue::new(redis.clone(), &db),
            db,
            redis,
            metrics: crate::telemetry::metrics_handle(),
            started: Instant::now(),
            shutting_down: AtomicBool::new(false),
        }));
        let registry = crate::jobs::builtin_registry(state.config())?;
        Ok(Self {
            state,
            listener,
            metrics_listener,
            addr,
            extra: None,
            registry,
        })
    }

    /// Mounts extra routes under `prefix`, inside every middleware layer (used by tests
    /// for slow or fault-injecting handlers).
    pub fn mount(mut self, prefix: &str, endpoint: poem::endpoint::BoxEndpoint<'static>) -> Self {
        self.extra = Some((prefix.to_string(), endpoint));
        self
    }

    /// Adds job handlers (tests register their own kinds this way).
    pub fn register_jobs(mut self, register: impl FnOnce(&mut Registry)) -> Self {
        register(&mut self.registry);
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `shutdown` resolves, then drains: `/ready` turns 503 at once, the
    /// listener closes, in-flight requests get `server.shutdown_timeout` to finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        let Application {
            state,
            listener,
            metrics_listener,
            extra,
            registry,
            ..
        } = self;
        let server_config = &state.config().server;
        let grace = server_config.shutdown_timeout.get();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let draining = state.clone();
        tokio::spawn(async move {
            shutdown.await;
            draining.begin_shutdown();
            tracing::info!("shutdown requested; draining in-flight requests");
            let _ = stop_tx.send(true);
        });
        let workers_stop = stop_rx.clone();
        let stopped = move || {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }
        };
        let workers = state.config().jobs.run_in_serve.then(|| {
            let workers = Workers::new(
                state.db().clone(),
                registry,
                state.config().jobs.clone(),
                state.jobs().wake_signal(),
            );
            tokio::spawn(workers.run(workers_stop))
        });
        let wake_listener = workers
            .as_ref()
            .and_then(|_| state.jobs().spawn_wake_listener());
        let upkeep = state.clone();
        let upkeep_task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                upkeep.metrics().run_upkeep();
                upkeep.rate_limiter().sweep();
                let (entries, bytes) = upkeep.cache().l1_usage();
                metrics::gauge!("levee_cache_l1_entries").set(entries as f64);
                metrics::gauge!("levee_cache_l1_bytes").set(bytes as f64);
            }
        });

        let invalidations = state
            .cache()
            .redis()
            .map(|redis| crate::cache::spawn_subscriber(state.cache().clone(), redis.clone()));
        let metrics_task = metrics_listener.map(|l| {
            let app = Route::new().at(
                "/metrics",
                http::system::metrics.data(http::system::ScrapeToken::new(&state.config().metrics)),
            );
            let acceptor = TcpAcceptor::from_tokio(l);
            let stop = stopped();
            tokio::spawn(async move {
                if let Ok(acceptor) = acceptor {
                    let _ = Server::new_with_acceptor(acceptor)
                        .run_with_graceful_shutdown(app, stop, Some(grace))
                        .await;
                }
            })
        });

        let app = http::router(&state, extra);
        let acceptor = TcpAcceptor::from_tokio(listener).map_err(AppError::Serve)?;
        let header_timeout = server_config.header_read_timeout.get();
        let acceptor = match &server_config.tls {
            Some(tls_config) => tls::ConfigFirst::new(acceptor)
                .rustls(tls::reloading(tls_config.clone())?)
                .boxed(),
            None => acceptor.boxed(),
        };
        let result = serve(
            http::conn::HeaderDeadline::new(acceptor, header_timeout),
            app,
            stopped(),
            grace,
        )
        .await;
        upkeep_task.abort();
        if let Some(task) = invalidations {
            task.abort();
        }
        if let Some(task) = metrics_task {
            let _ = task.await;
        }
        if let Some(listener) = wake_listener {
            listener.abort();
        }
        if let Some(workers) = workers {
            // Workers drain within jobs.shutdown_timeout and return unfinished jobs.
            let _ = workers.await;
        }
        state.db().close().await;
        tracing::info!("stopped");
        result
    }
}

async fn serve<A: Acceptor + 'static>(
    acceptor: A,
    app: poem::endpoint::BoxEndpoint<'static>,
    stop: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> Result<(), AppError> {
    Server::new_with_acceptor(acceptor)
        .idle_timeout(Duration::from_secs(75))
        .run_with_graceful_shutdown(app, stop, Some(grace))
        .await
        .map_err(AppError::Serve)
}

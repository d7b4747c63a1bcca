//! The composition root: `Application::build` wires config, pools, the job registry and
//! the router and binds the listener(s); `run_until_stopped` serves until the shutdown
//! signal, with the background tasks under one supervisor. Only `cli/` uses this module.

mod cache;
mod error;
pub mod tasks;
mod worker;

use cache::{open_cache, spawn_feed_poller};
pub use error::AppError;
pub use worker::run_worker;

use crate::auth::{Auth, LoginThrottle};
use crate::cache::Cache;
use crate::config::{Config, JobsConfig};
use crate::db::{self, Db};
use crate::http::{self, tls};
use crate::jobs::{JobQueue, Registry, Workers};
use crate::providers::Providers;
use crate::rate_limit::RateLimiter;
use crate::redis_conn::RedisConn;
use crate::state::{AppState, Parts};
use poem::listener::{Acceptor, AcceptorExt, TcpAcceptor};
use poem::{Route, Server};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tasks::{StopSignal, Tasks};

/// What job handlers use besides the database: the queue (a step enqueues the next), the
/// cache (stock moves change `available`) and the outside providers.
pub struct JobDeps {
    pub queue: JobQueue,
    pub cache: Cache,
    pub providers: Providers,
}

/// Every job kind this binary runs: the queue's own and each feature's.
pub fn job_registry(config: &Config, deps: &JobDeps) -> Result<Registry, AppError> {
    let mut registry = crate::jobs::builtin_registry(&config.jobs);
    crate::mail::register_jobs(&mut registry, &config.mail)?;
    crate::auth::register_jobs(&mut registry);
    crate::admin::register_jobs(&mut registry, &config.admin);
    crate::idempotency::register_jobs(&mut registry);
    crate::reports::register_jobs(&mut registry, &config.reports);
    let saga = crate::orders::Saga {
        jobs: deps.queue.clone(),
        cache: deps.cache.clone(),
        providers: deps.providers.clone(),
        mail: config.mail.clone(),
    };
    crate::orders::register_jobs(&mut registry, saga);
    crate::webhooks::register_jobs(&mut registry, &config.webhooks)?;
    let mailing = crate::accounts::Mailing::new(config, deps.queue.clone());
    crate::accounts::register_jobs(&mut registry, mailing);
    Ok(registry)
}

/// Starts the job workers (and the relay of wake-ups from other processes) under `tasks`.
fn start_workers(
    tasks: &mut Tasks,
    db: &Db,
    registry: Registry,
    config: JobsConfig,
    queue: &JobQueue,
) {
    let workers = Workers::new(db.clone(), registry, config, queue.wake_signal());
    tasks.spawn_draining("job workers", workers.run(tasks.signal().receiver()));
    if let Some(listener) = queue.wake_listener() {
        tasks.spawn_loop("job wake listener", listener);
    }
}

/// Opens Redis when configured (connections are made lazily).
fn open_redis(config: &Config) -> Result<Option<RedisConn>, redis::RedisError> {
    config
        .redis
        .url
        .as_ref()
        .map(|url| RedisConn::open(&config.redis, url))
        .transpose()
}

async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, AppError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| AppError::Bind { addr, source })
}

/// Serves `routes` on `listener` until `stop`, giving requests `grace` to finish.
async fn serve<A: Acceptor + 'static>(
    acceptor: A,
    routes: impl poem::Endpoint + 'static,
    stop: StopSignal,
    grace: Duration,
) -> Result<(), AppError> {
    Server::new_with_acceptor(acceptor)
        .idle_timeout(Duration::from_secs(75))
        .run_with_graceful_shutdown(routes, stop.stopped(), Some(grace))
        .await
        .map_err(AppError::Serve)
}

/// A side listener (metrics, probes) served under `tasks` until they stop.
fn start_side_listener(
    tasks: &mut Tasks,
    name: &'static str,
    listener: tokio::net::TcpListener,
    routes: Route,
    grace: Duration,
) -> Result<(), AppError> {
    let acceptor = TcpAcceptor::from_tokio(listener).map_err(AppError::Serve)?;
    let stop = tasks.signal();
    tasks.spawn_draining(name, serve(acceptor, routes, stop, grace));
    Ok(())
}

/// Prometheus upkeep, and the gauges of in-process state, every few seconds.
async fn upkeep(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        state.metrics().run_upkeep();
        state.rate_limiter().sweep();
        let (entries, bytes) = state.cache().l1_usage().await;
        metrics::gauge!("levee_cache_l1_entries").set(entries as f64);
        metrics::gauge!("levee_cache_l1_bytes").set(bytes as f64);
    }
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
        start_metrics();
        let db = Db::connect(&config.database).await?;
        if config.database.auto_migrate {
            let applied = db::migrate::up(&db).await?;
            if !applied.is_empty() {
                tracing::info!(migrations = ?applied, "applied pending migrations");
            }
        }
        db::migrate::check(&db).await?;
        let redis = open_redis(&config)?;
        let throttle = LoginThrottle::new(&config.auth, redis.clone(), config.rate_limit.fail_open);
        let auth = Auth::load(&config.auth, &db, throttle).await?;
        let rate_limiter = RateLimiter::new(&config.rate_limit, redis.clone());
        // A replica in rotation trails by at most max_replica_lag, plus one sample.
        let replica_lag = (!config.database.replicas.is_empty()).then(|| {
            config.database.max_replica_lag.get() + config.database.replica_check_interval.get()
        });
        let cache = open_cache(&config, &db, redis.clone(), replica_lag).await;
        let listener = bind(config.server.listen_addr()).await?;
        let metrics_listener = match config.metrics.listen {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        let addr = listener.local_addr().map_err(AppError::Serve)?;
        let deps = JobDeps {
            queue: JobQueue::new(redis.clone(), &db),
            cache,
            providers: Providers::new(&config.providers, &config.resilience)?,
        };
        let registry = job_registry(&config, &deps)?;
        let state = AppState::new(Parts {
            config,
            placements: crate::orders::PlacementWriter::start(db.clone(), deps.queue.clone()),
            auth,
            rate_limiter,
            cache: deps.cache,
            jobs: deps.queue,
            db,
            redis,
            metrics: crate::telemetry::metrics_handle(),
            providers: deps.providers,
        });
        Ok(Self {
            state,
            listener,
            metrics_listener,
            addr,
            extra: None,
            registry,
        })
    }

    /// Mounts extra routes under `prefix`, inside every middleware layer (tests' faults).
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
    /// listener closes, in-flight requests get `server.shutdown_timeout` to finish, job
    /// workers get `jobs.shutdown_timeout`, then the pools close.
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
        let config = state.config();
        let grace = config.server.shutdown_timeout.get();
        let mut tasks = Tasks::default();
        let (draining, stopper) = (state.clone(), tasks.stopper());
        tokio::spawn(async move {
            shutdown.await;
            draining.begin_shutdown();
            tracing::info!("shutdown requested; draining in-flight requests");
            stopper.stop();
        });
        if config.jobs.run_in_serve {
            let jobs = config.jobs.clone();
            start_workers(&mut tasks, state.db(), registry, jobs, state.jobs());
        }
        tasks.spawn_loop("metrics upkeep", upkeep(state.clone()));
        let publisher = crate::admin::fleet::publish_serve(state.clone());
        tasks.spawn_loop("fleet statistics publisher", publisher);
        // A first round before serving, so `/ready` speaks from the first request.
        http::readiness::check(&state).await;
        tasks.spawn_loop("readiness checker", http::readiness::run(state.clone()));
        if let Some(redis) = state.cache().redis() {
            let subscriber = crate::cache::subscriber(state.cache().clone(), redis.clone());
            tasks.spawn_loop("cache invalidation subscriber", subscriber);
            let replayer = crate::cache::replayer(state.cache().clone());
            tasks.spawn_loop("cache invalidation replayer", replayer);
        }
        spawn_feed_poller(&mut tasks, state.cache());
        if let Some(listener) = metrics_listener {
            let routes = Route::new().at("/metrics", http::system::metrics_endpoint(config));
            start_side_listener(&mut tasks, "metrics listener", listener, routes, grace)?;
        }

        let app = http::router(&state, extra);
        let acceptor = TcpAcceptor::from_tokio(listener).map_err(AppError::Serve)?;
        let acceptor = match &config.server.tls {
            Some(tls_config) => tls::ConfigFirst::new(acceptor)
                .rustls(tls::reloading(tls_config.clone())?)
                .boxed(),
            None => acceptor.boxed(),
        };
        let acceptor =
            http::conn::HeaderDeadline::new(acceptor, config.server.header_read_timeout.get());
        let result = serve(acceptor, app, tasks.signal(), grace).await;
        tasks.stop().await;
        state.db().close().await;
        tracing::info!("stopped");
        result
    }
}

/// Installs the recorder and creates the event series of the modules telemetry sits below.
/// First thing in `serve` and `worker`: a metric handle taken before the recorder exists
/// (the pools' breakers, the replicas' read counters) stays a no-op for good.
fn start_metrics() {
    crate::telemetry::metrics_handle();
    crate::orders::register_series();
    crate::idempotency::register_series();
    crate::reports::register_series();
    crate::webhooks::register_series();
}

//! Why the application could not be built or stopped serving.

use crate::auth::AuthSetupError;
use crate::db::{DbError, migrate::SchemaError};
use crate::http::tls::TlsError;
use std::net::SocketAddr;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AppError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Schema(#[from] SchemaError),
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
    Tls(#[from] TlsError),
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
    #[error("providers: cannot build the HTTP client: {0}")]
    Providers(#[from] reqwest::Error),
    #[error("webhooks: {0}")]
    Webhooks(#[from] crate::webhooks::WebhooksError),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

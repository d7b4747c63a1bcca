//! HTTPS: loading PEM files (with errors naming the path) and reloading them on SIGHUP
//! without dropping established connections.

use crate::config::TlsConfig;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use poem::listener::{RustlsCertificate, RustlsConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("server.tls.{key}: cannot read {}: {source}", path.display())]
    Read {
        key: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("server.tls.{key}: {} holds no usable PEM {what}", path.display())]
    Pem {
        key: &'static str,
        path: PathBuf,
        what: &'static str,
    },
    #[error("server.tls: the key in {} does not match the certificate in {}: {reason}", key.display(), cert.display())]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("cannot listen for SIGHUP: {0}")]
    Signal(std::io::Error),
}

/// Reads and checks the certificate chain and key; the result is ready for the listener.
pub fn load(config: &TlsConfig) -> Result<RustlsConfig, TlsError> {
    let read = |key: &'static str, path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            key,
            path: path.to_path_buf(),
            source,
        })
    };
    let cert_pem = read("cert", &config.cert)?;
    let key_pem = read("key", &config.key)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .ok()
        .filter(|c: &Vec<_>| !c.is_empty())
        .ok_or_else(|| TlsError::Pem {
            key: "cert",
            path: config.cert.clone(),
            what: "certificate",
        })?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| TlsError::Pem {
        key: "key",
        path: config.key.clone(),
        what: "private key",
    })?;
    let provider = rustls::crypto::ring::default_provider();
    rustls::sign::CertifiedKey::from_der(certs, key, &provider).map_err(|e| {
        TlsError::Mismatch {
            cert: config.cert.clone(),
            key: config.key.clone(),
            reason: e.to_string(),
        }
    })?;
    Ok(RustlsConfig::new().fallback(RustlsCertificate::new().cert(cert_pem).key(key_pem)))
}

/// The current TLS config, then a fresh one after every SIGHUP. A reload that fails is
/// logged and the previous certificate stays in use.
pub fn reloading(config: TlsConfig) -> Result<BoxStream<'static, RustlsConfig>, TlsError> {
    let first = load(&config)?;
    let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(TlsError::Signal)?;
    let reloads = futures_util::stream::unfold(
        (config, hangups),
        |(config, mut hangups)| async move {
            loop {
                hangups.recv().await?;
                match load(&config) {
                    Ok(tls) => {
                        tracing::info!(cert = %config.cert.display(), "TLS certificate reloaded");
                        metrics::counter!("levee_tls_reloads_total", "outcome" => "ok")
                            .increment(1);
                        return Some((tls, (config, hangups)));
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "TLS reload failed; keeping the current certificate");
                        metrics::counter!("levee_tls_reloads_total", "outcome" => "error")
                            .increment(1);
                    }
                }
            }
        },
    );
    Ok(futures_util::stream::once(async { first })
        .chain(reloads)
        .boxed())
}

/// Wraps the plain TCP acceptor under the TLS one so that its very first `accept` yields
/// once. poem's TLS acceptor polls "next config" and "next connection" together; without
/// this, a connection already queued at start-up can win that race, find no certificate
/// loaded yet and be reset.
pub struct ConfigFirst<A> {
    inner: A,
    yielded: bool,
}

impl<A> ConfigFirst<A> {
    pub fn new(inner: A) -> Self {
        Self {
            inner,
            yielded: false,
        }
    }
}

impl<A: poem::listener::Acceptor> poem::listener::Acceptor for ConfigFirst<A> {
    type Io = A::Io;

    fn local_addr(&self) -> Vec<poem::web::LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(
        &mut self,
    ) -> std::io::Result<(
        Self::Io,
        poem::web::LocalAddr,
        poem::web::RemoteAddr,
        poem::http::uri::Scheme,
    )> {
        if !std::mem::replace(&mut self.yielded, true) {
            tokio::task::yield_now().await;
        }
        self.inner.accept().await
    }
}

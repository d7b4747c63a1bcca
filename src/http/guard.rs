//! Protective layers: load shedding past `server.max_in_flight`, the request deadline,
//! and the body size limit (for chunked bodies too, not only `Content-Length`).

use crate::error::{ApiError, BodyTooLarge};
use futures_util::StreamExt;
use poem::http::header::CONTENT_LENGTH;
use poem::{Body, Endpoint, IntoResponse, Request, Response, Result};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Paths never shed, so orchestrators can still see the process is alive.
const NEVER_SHED: [&str; 2] = ["/health", "/metrics"];

pub struct Shed<E> {
    inner: E,
    permits: Arc<Semaphore>,
    capacity: usize,
}

impl<E> Shed<E> {
    pub fn new(inner: E, capacity: usize) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(capacity)),
            capacity,
        }
    }
}

impl<E: Endpoint> Endpoint for Shed<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        if NEVER_SHED.contains(&req.uri().path()) {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        let Ok(_permit) = self.permits.try_acquire() else {
            metrics::counter!("levee_http_shed_total").increment(1);
            return Err(ApiError::Overloaded { retry_after: 1 }.into());
        };
        let in_flight = self.capacity - self.permits.available_permits();
        metrics::gauge!("levee_http_in_flight_requests").set(in_flight as f64);
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

pub struct Deadline<E> {
    inner: E,
    limit: Duration,
}

impl<E> Deadline<E> {
    pub fn new(inner: E, limit: Duration) -> Self {
        Self { inner, limit }
    }
}

impl<E: Endpoint> Endpoint for Deadline<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        match tokio::time::timeout(self.limit, self.inner.call(req)).await {
            Ok(result) => result.map(IntoResponse::into_response),
            Err(_) => {
                metrics::counter!("levee_http_timeouts_total").increment(1);
                Err(ApiError::Timeout(self.limit).into())
            }
        }
    }
}

pub struct BodyLimit<E> {
    inner: E,
    max: u64,
}

impl<E> BodyLimit<E> {
    pub fn new(inner: E, max: u64) -> Self {
        Self { inner, max }
    }
}

impl<E: Endpoint> Endpoint for BodyLimit<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        match declared {
            Some(len) if len > self.max => {
                return Err(ApiError::PayloadTooLarge(
                    BodyTooLarge { limit: self.max }.to_string(),
                )
                .into());
            }
            // hyper enforces a declared length, so only streamed bodies need counting.
            Some(_) => {}
            None => {
                let body = req.take_body();
                req.set_body(counted(body, self.max));
            }
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

/// `body`, failing once more than `limit` bytes have streamed. An empty body (a GET's) is
/// passed as it is: nothing to count, and no stream to allocate on every read.
fn counted(body: Body, limit: u64) -> Body {
    if body.is_empty() {
        return body;
    }
    let mut seen = 0u64;
    Body::from_bytes_stream(body.into_bytes_stream().map(move |chunk| {
        let chunk = chunk?;
        seen += chunk.len() as u64;
        if seen > limit {
            Err(std::io::Error::other(BodyTooLarge { limit }))
        } else {
            Ok(chunk)
        }
    }))
}

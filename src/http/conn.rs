//! Connection-level guard against slowloris: a client must finish sending a request's
//! headers within `server.header_read_timeout` of its first byte (of the connection, or
//! of each later request on a keep-alive connection). HTTP/2 connections, recognised by
//! their preface, are left to hyper's own flow control.

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

const HEADER_END: &[u8] = b"\r\n\r\n";
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

pub struct HeaderDeadline<A> {
    inner: A,
    timeout: Duration,
}

impl<A> HeaderDeadline<A> {
    pub fn new(inner: A, timeout: Duration) -> Self {
        Self { inner, timeout }
    }
}

impl<A: Acceptor> Acceptor for HeaderDeadline<A> {
    type Io = DeadlineIo<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.inner.accept().await?;
        Ok((DeadlineIo::new(io, self.timeout), local, remote, scheme))
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Phase {
    /// Reading a request head; the deadline runs.
    Head,
    /// Head complete; body bytes and the response follow.
    Body,
    /// A response was written; the next byte read starts a new request head.
    Idle,
    /// HTTP/2 or otherwise not tracked.
    Off,
}

pub struct DeadlineIo<T> {
    inner: T,
    timeout: Duration,
    deadline: Option<Pin<Box<Sleep>>>,
    phase: Phase,
    /// The last bytes of the head seen so far, to find `\r\n\r\n` across reads.
    tail: Vec<u8>,
    first_read: bool,
}

impl<T> DeadlineIo<T> {
    fn new(inner: T, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            deadline: Some(Box::pin(tokio::time::sleep(timeout))),
            phase: Phase::Head,
            tail: Vec::with_capacity(HEADER_END.len() * 2),
            first_read: true,
        }
    }

    fn observe(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if std::mem::take(&mut self.first_read) && bytes.starts_with(H2_PREFACE) {
            self.phase = Phase::Off;
            self.deadline = None;
            return;
        }
        if self.phase == Phase::Idle {
            self.phase = Phase::Head;
            self.deadline = Some(Box::pin(tokio::time::sleep(self.timeout)));
            self.tail.clear();
        }
        if self.phase == Phase::Head {
            self.tail.extend_from_slice(bytes);
            if self.tail.windows(HEADER_END.len()).any(|w| w == HEADER_END) {
                self.phase = Phase::Body;
                self.deadline = None;
                self.tail.clear();
            } else {
                let keep = self.tail.len().saturating_sub(HEADER_END.len() - 1);
                self.tail.drain(..keep);
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for DeadlineIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(deadline) = this.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            metrics::counter!("levee_http_header_timeouts_total").increment(1);
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "request headers not received in time",
            )));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let fresh = buf.filled()[before..].to_vec();
            this.observe(&fresh);
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for DeadlineIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.phase == Phase::Body {
            self.phase = Phase::Idle;
        }
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.phase == Phase::Body {
            self.phase = Phase::Idle;
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_head_that_never_completes_times_out() {
        let (client, server) = tokio::io::duplex(1024);
        let mut io = DeadlineIo::new(server, Duration::from_secs(10));
        let mut client = client;
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        let mut buf = [0u8; 64];
        assert!(io.read(&mut buf).await.is_ok());
        let err = io.read(&mut buf).await.expect_err("deadline");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test(start_paused = true)]
    async fn a_complete_head_stops_the_clock_and_the_next_request_restarts_it() {
        let (mut client, server) = tokio::io::duplex(1024);
        let mut io = DeadlineIo::new(server, Duration::from_secs(10));
        let mut buf = [0u8; 64];
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r")
            .await
            .expect("write");
        assert!(io.read(&mut buf).await.expect("read") > 0);
        client.write_all(b"\n\r\n").await.expect("write");
        assert!(io.read(&mut buf).await.expect("read") > 0);
        assert_eq!(io.phase, Phase::Body);
        io.write_all(b"HTTP/1.1 200 OK\r\n\r\n")
            .await
            .expect("respond");
        tokio::time::sleep(Duration::from_secs(60)).await;
        client.write_all(b"GET /again").await.expect("write");
        assert!(
            io.read(&mut buf)
                .await
                .expect("a new head may start after a long idle")
                > 0
        );
        assert_eq!(io.phase, Phase::Head);
    }

    #[tokio::test(start_paused = true)]
    async fn http2_connections_are_not_tracked() {
        let (mut client, server) = tokio::io::duplex(1024);
        let mut io = DeadlineIo::new(server, Duration::from_secs(10));
        client
            .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .await
            .expect("write");
        let mut buf = [0u8; 64];
        assert!(io.read(&mut buf).await.expect("read") > 0);
        assert_eq!(io.phase, Phase::Off);
    }
}

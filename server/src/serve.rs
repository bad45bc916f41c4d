//! The HTTP/1.1 accept loop, bounded: at most `max_connections` open connections (each holds a
//! permit for its life, a WebSocket's included; past the cap the gateway stops accepting and new
//! connections wait in the kernel's backlog), and a connection is closed when a request's
//! headers take longer than `read_timeout` (partial headers, or nothing at all: an idle
//! keep-alive connection waits for its next request under the same timeout), or when its
//! request body sends nothing for `read_timeout` ([`TimeoutBody`]: the wait between two
//! chunks, so a slow upload that keeps sending is never cut off). WebSockets, once upgraded,
//! are timed by their own pings and idle timeout (`ws_limits`), not by these.
//!
//! What `axum::serve` does, plus these limits (it has no header timeout and no connection
//! cap); the client's address reaches handlers as `ConnectInfo<SocketAddr>` as before.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

/// The limits of [`serve`].
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections open at once, WebSockets included.
    pub max_connections: usize,
    /// Longest wait for a request's complete headers (also: for the first byte of the next
    /// request on an idle connection).
    pub read_timeout: Duration,
    /// After `shutdown`, how long in-flight requests get before their connections are dropped.
    pub grace: Duration,
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets
/// in-flight requests finish (for at most `limits.grace`) and returns. Upgraded WebSockets are
/// not connections here any more: they close themselves (see `shutdown`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Reap finished connection tasks so the set stays as large as what is open.
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            () = &mut shutdown => break,
            // The semaphore is never closed; if it were, stop accepting rather than panic.
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, addr) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Counted { stream, _permit: permit });
        let read_timeout = limits.read_timeout;
        let service = router.clone().map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(addr));
            // The body must keep coming: at most `read_timeout` between two chunks.
            req.map(|body| axum::body::Body::new(TimeoutBody::new(read_timeout, body)))
        });
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(read_timeout);
            let conn = builder.serve_connection(io, TowerToHyperService::new(service)).with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, client = %addr, "connection ended");
                    }
                    return;
                }
                _ = stop.wait_for(|stop| *stop) => conn.as_mut().graceful_shutdown(),
            }
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, client = %addr, "connection ended during shutdown");
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let finished = tokio::time::timeout(limits.grace, async { while connections.join_next().await.is_some() {} }).await;
    if finished.is_err() {
        tracing::warn!(
            connections = connections.len(),
            grace_secs = limits.grace.as_secs(),
            "requests still running after the grace period are dropped"
        );
        connections.abort_all();
    }
    Ok(())
}

/// A connection holding its permit: the count drops when the socket is dropped, also when it
/// lives on as a WebSocket after the upgrade.
struct Counted {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for Counted {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

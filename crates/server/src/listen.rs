//! The accept loop: HTTP/1.1 connections with a header-read timeout, an idle timeout and a cap
//! on open connections, so idle or half-sent requests cannot take every socket the process may
//! open.
//!
//! `axum::serve` sets none of these: hyper's header timeout needs a timer it does not give, and
//! it accepts while the process has file descriptors. With a 1,024 open-file limit, about a
//! thousand idle sockets were enough to make every new request time out.

use axum::body::Body;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

/// Limits on connections, each configurable (README's table).
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// How long the server waits for a request's head to be complete, counted from when it
    /// starts waiting for one: on a new connection, or for the next request on a kept-alive
    /// one (so this is also how long an idle keep-alive connection stays open).
    pub header_timeout: Duration,
    /// A connection that moves no byte either way for this long is closed, whatever it is
    /// doing (a body that stopped half-way, an answer the client does not read).
    pub idle_timeout: Duration,
    /// Connections open at once; past it, new ones are closed at once and a warning is logged,
    /// and the open ones are served as before.
    pub max_connections: usize,
    /// How long a shutdown waits for open connections to finish their requests.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: default_max_connections(),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// File descriptors kept free for the store, logs and the listener itself.
const RESERVED_FDS: u64 = 64;

/// The default cap: the process's open-file limit less 64 (kept for the store and logs), at least 64; 1,000
/// where the limit cannot be read.
pub fn default_max_connections() -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits").ok().and_then(|limits| {
        let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
        line.split_whitespace().nth(3)?.parse::<u64>().ok()
    });
    match soft {
        Some(n) => usize::try_from(n.saturating_sub(RESERVED_FDS).max(64)).unwrap_or(usize::MAX),
        None => 1000,
    }
}

/// The milliseconds since `epoch`, for activity stamps that fit an atomic.
fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A socket that stamps the time of every byte read or written.
struct Watched {
    io: TcpStream,
    epoch: Instant,
    last: Arc<AtomicU64>,
}

impl Watched {
    fn touch(&self) {
        self.last.store(millis_since(self.epoch), Ordering::Relaxed);
    }
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Counts connections refused at the cap, logged at most once a second with the count.
struct Refusals {
    since_log: u64,
    last_log: Option<Instant>,
}

impl Refusals {
    fn refused(&mut self, cap: usize) {
        self.since_log += 1;
        let due = self.last_log.is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
        if due {
            tracing::warn!(
                refused = self.since_log,
                max_connections = cap,
                "at the connection cap: refusing new connections (serving the open ones)"
            );
            self.since_log = 0;
            self.last_log = Some(Instant::now());
        }
    }
}

/// Serves `app` on `listener` under `limits` until `shutdown` completes, then stops accepting,
/// lets open connections finish their requests (up to `shutdown_grace`) and returns.
/// Connections are counted in the app's metrics.
pub async fn serve<S>(
    listener: TcpListener,
    app: crate::context::Root<S>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) where
    crate::context::Root<S>: tower::Service<axum::extract::Request, Response = axum::response::Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    <crate::context::Root<S> as tower::Service<axum::extract::Request>>::Future: Send + 'static,
{
    let state = app.state().clone();
    let cap = limits.max_connections.max(1);
    let open = Arc::new(Semaphore::new(cap));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut refusals = Refusals {
        since_log: 0,
        last_log: None,
    };
    let mut shutdown = pin!(shutdown);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        // Reap the connections that ended, so the set holds only open ones.
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors or a connection reset before it was accepted: go on
                // after a pause rather than spin.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            state.metrics.connection_refused();
            refusals.refused(cap);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let stop = stop_rx.clone();
        state.metrics.connection_opened();
        // Made before the task, so it is counted closed however the task ends: aborted at
        // shutdown before its first poll included.
        let open_guard = Open(state.clone());
        connections.spawn(async move {
            let _open = open_guard;
            serve_connection(stream, peer, app, limits, stop).await;
            drop(permit);
        });
    }
    let _ = stop_tx.send(true);
    // Stream connections left their HTTP connection when they upgraded: tell them too, as
    // DingTalk does before it moves a connection, so the SDKs reconnect at once.
    state.stream.close(None, || {
        crate::stream::Out::Close(Some("server shutting down".to_owned()))
    });
    let all = u32::try_from(cap).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.shutdown_grace, open.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            open = connections.len(),
            "connections still open after the shutdown grace period; closing them"
        );
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

/// An open connection in the metrics, counted closed when dropped.
struct Open(crate::state::AppState);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.metrics.connection_closed();
    }
}

async fn serve_connection<S>(
    stream: TcpStream,
    peer: std::net::SocketAddr,
    app: S,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) where
    S: tower::Service<axum::extract::Request, Response = axum::response::Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let epoch = Instant::now();
    let last = Arc::new(AtomicU64::new(0));
    let io = TokioIo::new(Watched {
        io: stream,
        epoch,
        last: Arc::clone(&last),
    });
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        tower::ServiceExt::oneshot(app.clone(), req)
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut conn = pin!(builder.serve_connection(io, service).with_upgrades());
    let idle_ms = u64::try_from(limits.idle_timeout.as_millis()).unwrap_or(u64::MAX);
    let mut stopping = false;
    loop {
        let quiet_until = last.load(Ordering::Relaxed).saturating_add(idle_ms);
        let wake = epoch + Duration::from_millis(quiet_until);
        tokio::select! {
            _ = conn.as_mut() => return,
            () = tokio::time::sleep_until(wake.into()) => {
                if last.load(Ordering::Relaxed).saturating_add(idle_ms) <= millis_since(epoch) {
                    tracing::debug!("closing a connection idle for {} ms", idle_ms);
                    return;
                }
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

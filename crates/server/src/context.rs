//! The root layer: one place mints the request id, so the body, the headers and the log lines
//! agree. Handlers and error renderers read it from a task-local.
//!
//! Logging costs nothing per request at the default level: the per-request span is at `debug`
//! (at `info` a span is built and formatted for every request, which cost more than the rest of
//! a cached GetUser). A line logged while serving a request names it with [`current`].
//!
//! It is a hand-written [`Service`] around the whole router rather than an `axum::middleware`
//! function: every request passes through it, and as a plain future it costs no boxing, no
//! clone of the inner service and no request split, which `from_fn` pays per request.

use crate::gateway::Gateway;
use crate::state::AppState;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, Uri};
use axum::response::Response;
use dingdir_proto::api::{REQUEST_ID_HEADER, TRACE_ID_HEADER};
use futures_util::FutureExt;
use futures_util::future::{CatchUnwind, Map};
use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::task::futures::TaskLocalFuture;
use tower::Service;

/// The id headers, parsed once rather than on every answer.
const REQUEST_ID: HeaderName = HeaderName::from_static(REQUEST_ID_HEADER);
const TRACE_ID: HeaderName = HeaderName::from_static(TRACE_ID_HEADER);

tokio::task_local! {
    static CURRENT: RequestContext;
}

/// What the root layer knows about the request being served.
#[derive(Clone, Debug)]
struct RequestContext {
    /// The request id, in the gateway's own format.
    id: RequestId,
    /// The gateway the path belongs to.
    gateway: Gateway,
    /// Whether the path is a legacy `/topapi/*` one (the `errcode 88` envelope).
    topapi: bool,
    /// For log lines (cheap to clone: the URI shares the request's buffer).
    method: Method,
    uri: Uri,
}

/// The request being served, for a log line: `GET /v1.0/contact/users/me (GetUser) id=…`, or
/// `-` outside a request.
pub(crate) fn current() -> CurrentRequest {
    CurrentRequest
}

/// See [`current`].
pub(crate) struct CurrentRequest;

impl std::fmt::Display for CurrentRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        CURRENT
            .try_with(|c| {
                let path = c.uri.path();
                let endpoint = crate::gateway::endpoint_name(&c.method, path).unwrap_or("-");
                write!(f, "{} {path} ({endpoint}) id={}", c.method, c.id)
            })
            .unwrap_or_else(|_| f.write_str("-"))
    }
}

/// Lines a second that per-request refusals, sheds and busy answers may log; past it they are
/// counted, and the count is logged once the next second begins. A flood of bad requests (50,000
/// a second of wrong secrets) must not become a flood of log writes on the workers, nor fill a
/// disk; the first lines of each second still show what is going on.
const LOG_LINES_PER_SECOND: u32 = 20;

/// Whether a per-request log line may be written now (see [`LOG_LINES_PER_SECOND`]).
pub(crate) fn log_budget() -> bool {
    use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    static SECOND: AtomicU64 = AtomicU64::new(0);
    static USED: AtomicU32 = AtomicU32::new(0);
    static SUPPRESSED: AtomicU64 = AtomicU64::new(0);
    let now = EPOCH.get_or_init(std::time::Instant::now).elapsed().as_secs();
    let second = SECOND.load(Ordering::Relaxed);
    if now != second
        && SECOND
            .compare_exchange(second, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        USED.store(0, Ordering::Relaxed);
        let suppressed = SUPPRESSED.swap(0, Ordering::Relaxed);
        if suppressed > 0 {
            tracing::warn!(
                suppressed,
                "per-request log lines over {LOG_LINES_PER_SECOND} a second were not written"
            );
        }
    }
    if USED.fetch_add(1, Ordering::Relaxed) < LOG_LINES_PER_SECOND {
        true
    } else {
        SUPPRESSED.fetch_add(1, Ordering::Relaxed);
        false
    }
}

/// Whether the request being served is a legacy `/topapi/*` one.
pub(crate) fn is_topapi() -> bool {
    CURRENT.try_with(|c| c.topapi).unwrap_or(false)
}

/// The id of the request being served (a fresh one outside a request).
pub(crate) fn request_id() -> String {
    CURRENT
        .try_with(|c| c.id)
        .unwrap_or_else(|_| RequestId::new(Gateway::Api))
        .as_str()
        .to_owned()
}

/// Bytes for request and trace ids: unique, not secret, so a per-thread generator seeded once
/// from the OS spares every request two system calls.
fn random_bytes<const N: usize>() -> [u8; N] {
    thread_local! {
        static STATE: std::cell::Cell<u64> = std::cell::Cell::new({
            let mut seed = [0u8; 8];
            // A failing OS random source leaves a fixed seed: ids stay well-formed, only less unique.
            let _ = getrandom::fill(&mut seed);
            u64::from_le_bytes(seed) | 1
        });
    }
    let mut out = [0u8; N];
    STATE.with(|state| {
        for chunk in out.chunks_mut(8) {
            // splitmix64
            let mut z = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
            state.set(z);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    });
    out
}

/// A request id, held inline (it is copied into the task-local, the headers and error bodies).
#[derive(Clone, Copy)]
struct RequestId {
    bytes: [u8; 36],
    len: u8,
}

impl RequestId {
    /// An id as the gateway writes them: `8-4-4-4-12` upper-case hex on the new gateway
    /// (WIRE.md §A1), 13 lower-case alphanumerics on the legacy one (WIRE.md §B1).
    fn new(gateway: Gateway) -> Self {
        let mut bytes = [0u8; 36];
        let len = match gateway {
            Gateway::Oapi => {
                const ALNUM: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
                for (out, b) in bytes.iter_mut().zip(random_bytes::<13>()) {
                    *out = ALNUM[usize::from(b) % 36];
                }
                13
            }
            Gateway::Api | Gateway::Admin | Gateway::Browser => {
                let mut at = 0;
                for (i, b) in random_bytes::<16>().into_iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        bytes[at] = b'-';
                        at += 1;
                    }
                    bytes[at..at + 2].copy_from_slice(&hex_pair(b, b"0123456789ABCDEF"));
                    at += 2;
                }
                36
            }
        };
        Self { bytes, len }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    fn as_str(&self) -> &str {
        // Only ASCII is ever written.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A trace id: 32 lower-case hex digits.
fn trace_id() -> [u8; 32] {
    let mut out = [0u8; 32];
    for (pair, b) in out.chunks_exact_mut(2).zip(random_bytes::<16>()) {
        pair.copy_from_slice(&hex_pair(b, b"0123456789abcdef"));
    }
    out
}

/// `b` as two hex digits from `digits` (upper- or lower-case), written into a fixed buffer: ids
/// are made on every request, so without a String.
fn hex_pair(b: u8, digits: &[u8; 16]) -> [u8; 2] {
    [digits[usize::from(b >> 4)], digits[usize::from(b & 0xf)]]
}

/// Wraps the whole router: gives each request its id and gateway, sheds load over the in-flight
/// limit, turns a panic into the gateway's error, and stamps the id headers on every answer.
#[derive(Clone)]
pub struct Root<S> {
    inner: S,
    state: AppState,
}

impl<S> Root<S> {
    /// `inner` (the router) under the root layer.
    pub(crate) fn new(inner: S, state: AppState) -> Self {
        Self { inner, state }
    }
}

impl<S> Service<Request> for Root<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = RootFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let path = req.uri().path();
        let gateway = Gateway::of(path);
        let ctx = RequestContext {
            id: RequestId::new(gateway),
            gateway,
            topapi: path.starts_with(dingdir_proto::oapi::path::TOPAPI_PREFIX),
            method: req.method().clone(),
            uri: req.uri().clone(),
        };
        // The fields are only evaluated when the span is enabled.
        let span = tracing::debug_span!(
            "request",
            id = %ctx.id,
            method = %req.method(),
            path = %path,
            endpoint = crate::gateway::endpoint_name(req.method(), path).unwrap_or("-")
        );
        // Admin requests and sign-in posts are logged when answered, with the peer's address:
        // a failed admin-token guess or a run of wrong passwords shows in the log.
        let audit = match gateway {
            Gateway::Admin => !path.starts_with(dingdir_proto::admin::path::HEALTH),
            Gateway::Browser => req.method() == Method::POST,
            Gateway::Api | Gateway::Oapi => false,
        };
        let audit = audit.then(|| Audit {
            method: req.method().clone(),
            uri: req.uri().clone(),
            peer: req
                .extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0),
        });
        let mut future = RootFuture {
            serving: None,
            shed: None,
            slot: None,
            id: ctx.id,
            gateway,
            span,
            audit,
        };
        if req.method() == Method::CONNECT {
            future.shed = Some(CURRENT.sync_scope(ctx, || gateway.connect_refused(path)));
            return future;
        }
        // The admin API is neither counted nor shed: health checks must answer under load.
        if gateway != Gateway::Admin {
            self.state.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if !self.state.in_flight.try_enter() {
                future.shed = Some(CURRENT.sync_scope(ctx, || {
                    if log_budget() {
                        tracing::warn!(request = %current(), "over the in-flight limit; answering system busy");
                    }
                    gateway.busy()
                }));
                return future;
            }
            future.slot = Some(Slot(self.state.clone()));
        }
        // Store calls and body reads are bounded where they happen (`bounded`, `body::read`), so
        // a request the caches answer carries no timer.
        let catching = AssertUnwindSafe(self.inner.call(req)).catch_unwind();
        future.serving = Some(CURRENT.scope(ctx, catching.map(recover as Recover)));
        future
    }
}

/// The handler's outcome, with a panic turned into the gateway's error (run inside the request's
/// scope, so the error carries the request id).
type Recover = fn(std::thread::Result<Result<Response, Infallible>>) -> Response;

fn recover(outcome: std::thread::Result<Result<Response, Infallible>>) -> Response {
    match outcome {
        Ok(Ok(response)) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(request = %current(), panic = %what, "handler panicked");
            CURRENT.try_with(|c| c.gateway).unwrap_or(Gateway::Api).panicked()
        }
    }
}

/// What an audited request's log line names.
struct Audit {
    method: Method,
    uri: Uri,
    peer: Option<std::net::SocketAddr>,
}

impl Audit {
    fn log(&self, gateway: Gateway, id: RequestId, status: axum::http::StatusCode) {
        let peer = self.peer.map(|p| p.ip().to_string()).unwrap_or_else(|| "-".to_owned());
        let path = self.uri.path();
        let what = match gateway {
            Gateway::Browser => "sign-in form",
            Gateway::Admin | Gateway::Api | Gateway::Oapi => "admin request",
        };
        if status == axum::http::StatusCode::UNAUTHORIZED && gateway == Gateway::Admin {
            tracing::warn!(%peer, id = %id, "{what} {} {path} refused: wrong or missing admin token", self.method);
        } else {
            tracing::info!(%peer, id = %id, status = status.as_u16(), "{what} {} {path}", self.method);
        }
    }
}

/// A place under the in-flight limit, given back when the request's future is done or dropped.
struct Slot(AppState);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.in_flight.leave();
    }
}

pin_project_lite::pin_project! {
    /// The future of a request under [`Root`].
    pub struct RootFuture<F> {
        #[pin]
        serving: Option<TaskLocalFuture<RequestContext, Map<CatchUnwind<AssertUnwindSafe<F>>, Recover>>>,
        shed: Option<Response>,
        slot: Option<Slot>,
        id: RequestId,
        gateway: Gateway,
        span: tracing::Span,
        audit: Option<Audit>,
    }
}

impl<F> Future for RootFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let _entered = this.span.enter();
        let mut response = match this.serving.as_mut().as_pin_mut() {
            Some(serving) => {
                let response = ready!(serving.poll(cx));
                this.serving.set(None);
                response
            }
            // A shed request's answer is made in `call`. A future polled again after it is done
            // answers "busy" rather than panicking.
            None => this.shed.take().unwrap_or_else(|| this.gateway.busy()),
        };
        *this.slot = None;
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_bytes(this.id.as_bytes()) {
            headers.insert(REQUEST_ID, v);
        }
        if let Ok(v) = HeaderValue::from_bytes(&trace_id()) {
            headers.insert(TRACE_ID, v);
        }
        // Debug, not info: a line per request would cost more than the request on the hot path.
        tracing::debug!(status = response.status().as_u16(), "answered");
        if let Some(audit) = this.audit.take() {
            audit.log(*this.gateway, *this.id, response.status());
        }
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_have_each_gateways_shape() {
        let api = RequestId::new(Gateway::Api);
        let s = api.as_str();
        assert_eq!(s.len(), 36);
        let groups: Vec<usize> = s.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert!(
            s.bytes()
                .all(|b| b == b'-' || b.is_ascii_digit() || b.is_ascii_uppercase())
        );
        let oapi = RequestId::new(Gateway::Oapi);
        assert_eq!(oapi.as_str().len(), 13);
        assert!(
            oapi.as_str()
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        );
        assert_ne!(RequestId::new(Gateway::Api).as_str(), s, "ids differ");
        let t = trace_id();
        assert!(t.iter().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
}

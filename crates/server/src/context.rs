//! The root layer: one place mints the request id and sets the request being served
//! ([`crate::request`]), so the body, the headers and the log lines agree.
//!
//! Logging costs nothing per request at the default level: the per-request span is at `debug`
//! (at `info` a span is built and formatted for every request, which cost more than the rest of
//! a cached GetUser). A line logged while serving a request names it with [`crate::request::current`].
//!
//! It is a hand-written [`Service`] around the whole router rather than an `axum::middleware`
//! function: every request passes through it, and as a plain future it costs no boxing, no
//! clone of the inner service and no request split, which `from_fn` pays per request.

use crate::request::{CURRENT, Gateway, LogKind, RequestContext, RequestId, current, log_budget, trace_id};
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

    /// The state the requests are served under.
    pub(crate) fn state(&self) -> &AppState {
        &self.state
    }
}

impl<S> Service<Request> for Root<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
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
        let route = crate::gateway::route(req.method(), path);
        let ctx = RequestContext {
            id: RequestId::new(gateway),
            gateway,
            envelope: crate::gateway::envelope_at(path),
            method: req.method().clone(),
            uri: req.uri().clone(),
            route,
            noted: None,
        };
        // The fields are only evaluated when the span is enabled.
        let span = tracing::debug_span!(
            "request",
            id = %ctx.id,
            method = %req.method(),
            path = %path,
            endpoint = route.map_or("-", |r| r.name)
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
            tapped: None,
            journaling: None,
            shed: None,
            slot: Slot {
                state: self.state.clone(),
                held: false,
            },
            route: route.map(|r| r.index),
            started: std::time::Instant::now(),
            id: ctx.id,
            gateway,
            span,
            audit,
        };
        if req.method() == Method::CONNECT {
            future.shed = Some(CURRENT.sync_scope(ctx, || gateway.connect_refused(path)));
            return future;
        }
        // The admin API is not shed: health checks must answer under load.
        if gateway != Gateway::Admin {
            if !self.state.in_flight.try_enter() {
                self.state.metrics.shed(gateway);
                future.shed = Some(CURRENT.sync_scope(ctx, || {
                    if log_budget(LogKind::Refusal) {
                        tracing::warn!(request = %current(), "over the in-flight limit; answering system busy");
                    }
                    gateway.busy()
                }));
                return future;
            }
            future.slot.held = true;
        }
        // While a fault rule is armed or a rate limit is set, DingTalk-gateway requests take the
        // inspected path, which reads the body before the handler does.
        let dingtalk = matches!(gateway, Gateway::Api | Gateway::Oapi);
        if dingtalk && (self.state.faults.armed() || self.state.service.rate_limited()) {
            let noted = std::sync::Arc::new(crate::request::Noted::default());
            let ctx = RequestContext {
                noted: Some(noted.clone()),
                ..ctx
            };
            let served = crate::tap::serve(self.state.clone(), self.inner.clone(), req, gateway, noted);
            let catching = AssertUnwindSafe(served)
                .catch_unwind()
                .map(|outcome| recover(outcome.map(Ok)));
            future.tapped = Some(Box::pin(CURRENT.scope(ctx, catching)));
            return future;
        }
        // With only the journal on, the request takes the ordinary path and its answer's body is
        // journaled as it is sent.
        let ctx = match (dingtalk, &self.state.journal) {
            (true, Some(_)) => {
                let noted = std::sync::Arc::new(crate::request::Noted {
                    pending: Some(crate::request::Pending {
                        at_ms: self.state.service.now(),
                        gateway,
                        method: ctx.method.clone(),
                        uri: ctx.uri.clone(),
                        endpoint: route.map(|r| r.name),
                        request_id: ctx.id,
                        form: crate::params::is_form(req.headers()),
                        started: std::time::Instant::now(),
                    }),
                    ..Default::default()
                });
                future.journaling = Some(noted.clone());
                RequestContext {
                    noted: Some(noted),
                    ..ctx
                }
            }
            _ => ctx,
        };
        // Store calls and body reads are bounded where they happen (the service's store, `body::read`), so
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

/// The state a request is served under, and whether it holds a place under the in-flight limit,
/// given back when the request's future is done or dropped.
struct Slot {
    state: AppState,
    held: bool,
}

impl Slot {
    fn release(&mut self) {
        if std::mem::take(&mut self.held) {
            self.state.in_flight.leave();
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.release();
    }
}

pin_project_lite::pin_project! {
    /// The future of a request under [`Root`].
    pub struct RootFuture<F> {
        #[pin]
        serving: Option<TaskLocalFuture<RequestContext, Map<CatchUnwind<AssertUnwindSafe<F>>, Recover>>>,
        tapped: Option<Pin<Box<dyn Future<Output = Response> + Send>>>,
        journaling: Option<std::sync::Arc<crate::request::Noted>>,
        shed: Option<Response>,
        slot: Slot,
        route: Option<u16>,
        started: std::time::Instant,
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
        let mut response = match (this.serving.as_mut().as_pin_mut(), this.tapped.as_mut()) {
            (Some(serving), _) => {
                let response = ready!(serving.poll(cx));
                this.serving.set(None);
                response
            }
            (None, Some(tapped)) => {
                let response = ready!(tapped.as_mut().poll(cx));
                *this.tapped = None;
                response
            }
            // A shed request's answer is made in `call`. A future polled again after it is done
            // answers "busy" rather than panicking.
            (None, None) => this.shed.take().unwrap_or_else(|| this.gateway.busy()),
        };
        this.slot.release();
        let us = u64::try_from(this.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let code = response.extensions().get::<crate::request::Answered>();
        let status = response.status().as_u16();
        this.slot
            .state
            .metrics
            .answered(*this.route, *this.gateway, status, code, us);
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
            let kind = if *this.gateway == Gateway::Admin {
                LogKind::Admin
            } else {
                LogKind::SignIn
            };
            if log_budget(kind) {
                audit.log(*this.gateway, *this.id, response.status());
            }
        }
        if let Some(noted) = this.journaling.take()
            && let Some(journal) = &this.slot.state.journal
        {
            response = crate::journal::answered(journal.clone(), noted, response);
        }
        Poll::Ready(Ok(response))
    }
}

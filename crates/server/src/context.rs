//! The root middleware: one place mints the request id, so the body, the headers and the log
//! line agree. Handlers and error renderers read it from a task-local.

use crate::gateway::Gateway;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use dingdir_proto::api::{REQUEST_ID_HEADER, TRACE_ID_HEADER};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use tracing::Instrument;

tokio::task_local! {
    static CURRENT: RequestContext;
}

/// What the root middleware knows about the request being served.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// The request id, in the gateway's own format.
    pub id: String,
    /// The gateway the path belongs to.
    pub gateway: Gateway,
    /// Whether the path is a legacy `/topapi/*` one (the `errcode 88` envelope).
    pub topapi: bool,
}

/// Whether the request being served is a legacy `/topapi/*` one.
pub fn is_topapi() -> bool {
    CURRENT.try_with(|c| c.topapi).unwrap_or(false)
}

/// The id of the request being served (a fresh one outside a request).
pub fn request_id() -> String {
    CURRENT
        .try_with(|c| c.id.clone())
        .unwrap_or_else(|_| new_request_id(Gateway::Api))
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

/// A request id as the gateway writes them: `8-4-4-4-12` upper-case hex on the new gateway
/// (WIRE.md §A1), 13 lower-case alphanumerics on the legacy one (WIRE.md §B1).
pub fn new_request_id(gateway: Gateway) -> String {
    match gateway {
        Gateway::Oapi => {
            const ALNUM: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
            random_bytes::<13>()
                .iter()
                .map(|b| char::from(ALNUM[usize::from(*b) % 36]))
                .collect()
        }
        Gateway::Api | Gateway::Admin | Gateway::Browser => {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            let mut id = String::with_capacity(36);
            for (i, b) in random_bytes::<16>().iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    id.push('-');
                }
                id.push(char::from(HEX[usize::from(b >> 4)]));
                id.push(char::from(HEX[usize::from(b & 0xf)]));
            }
            id
        }
    }
}

/// Mints the request id, sheds load, catches panics, and stamps the id headers.
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let gateway = Gateway::of(req.uri().path());
    let topapi = req.uri().path().starts_with(dingdir_proto::oapi::path::TOPAPI_PREFIX);
    let ctx = RequestContext {
        id: new_request_id(gateway),
        gateway,
        topapi,
    };
    let trace_id = dingdir_core::ident::hex(&random_bytes::<16>());
    let span = tracing::info_span!(
        "request",
        id = %ctx.id,
        method = %req.method(),
        path = %req.uri().path(),
        endpoint = crate::gateway::endpoint_name(req.method(), req.uri().path()).unwrap_or("-")
    );
    let id = ctx.id.clone();
    let response = CURRENT
        .scope(ctx, async move {
            // The admin API is never shed: health checks must answer under load.
            if gateway != Gateway::Admin {
                state.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            let _permit = if gateway == Gateway::Admin {
                None
            } else {
                match state.in_flight.try_enter() {
                    Some(slot) => Some(slot),
                    None => {
                        tracing::warn!("over the in-flight limit; answering system busy");
                        return gateway.busy();
                    }
                }
            };
            // Store calls and body reads are bounded where they happen (`bounded`, `body::read`),
            // so a request the caches answer carries no timer.
            let outcome = AssertUnwindSafe(next.run(req)).catch_unwind().await;
            match outcome {
                Ok(r) => r,
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(panic = %what, "handler panicked");
                    gateway.panicked()
                }
            }
        })
        .instrument(span.clone())
        .await;
    let mut response = response;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        headers.insert(REQUEST_ID_HEADER, v);
    }
    if let Ok(v) = HeaderValue::from_str(&trace_id) {
        headers.insert(TRACE_ID_HEADER, v);
    }
    // Debug, not info: a line per request would cost more than the request on the hot path.
    span.in_scope(|| tracing::debug!(status = response.status().as_u16(), "answered"));
    response
}

//! The request being served, as every layer below the root sees it: its id (minted once, so the
//! body, the headers and the log lines agree), its gateway, and the name of its endpoint for log
//! lines. The root layer ([`crate::context`]) sets it; handlers and error renderers read it from
//! a task-local. Nothing here knows a gateway's wire form, so every gateway may import it.

use axum::http::{Method, Uri};
use dingdir_proto::{admin::path as admin_path, api::path as api_path, browser::path as browser_path};

/// Which wire form a path answers in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gateway {
    /// The new gateway, `api.dingtalk.com`.
    Api,
    /// The legacy gateway, `oapi.dingtalk.com`.
    Oapi,
    /// dingdir's admin API.
    Admin,
    /// The browser sign-in pages (`/oauth2/...`, as on `login.dingtalk.com`).
    Browser,
}

impl Gateway {
    /// The gateway a path belongs to.
    pub fn of(path: &str) -> Self {
        if path.starts_with(api_path::PREFIX) || path == dingdir_proto::stream::path::CONNECT {
            Self::Api
        } else if path.starts_with(admin_path::PREFIX) {
            Self::Admin
        } else if path.starts_with(browser_path::PREFIX)
            && [browser_path::AUTHORIZE, browser_path::SIGN_IN, browser_path::CONSENT].contains(&path)
        {
            Self::Browser
        } else {
            Self::Oapi
        }
    }
}

tokio::task_local! {
    pub(crate) static CURRENT: RequestContext;
}

/// What the root layer knows about the request being served.
#[derive(Clone, Debug)]
pub(crate) struct RequestContext {
    /// The request id, in the gateway's own format.
    pub(crate) id: RequestId,
    /// The gateway the path belongs to.
    pub(crate) gateway: Gateway,
    /// The legacy envelope of the path: its endpoint's, or by prefix for an unknown path.
    pub(crate) envelope: dingdir_proto::oapi::Envelope,
    /// For log lines (cheap to clone: the URI shares the request's buffer).
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    /// The endpoint's route, looked up once by the root layer, which knows the gateways'
    /// endpoint lists; `None` for a path or method no endpoint serves.
    pub(crate) route: Option<Route>,
    /// Where the handler leaves the caller and the body it read, for the journal: on a
    /// journaled or inspected request only.
    pub(crate) noted: Option<std::sync::Arc<Noted>>,
}

/// The DingTalk error code an answer carries, left in its extensions by the error that made it,
/// so the metrics count answers by code without reading bodies.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Answered {
    /// The legacy gateway's `errcode`.
    Errcode(i64),
    /// The new gateway's `code`.
    Code(Box<str>),
}

/// What the handler leaves for the journal while it serves a journaled request: the caller its
/// token check authenticated and the body it read ([`crate::request::note_caller`],
/// [`crate::request::note_body`]).
///
/// On the ordinary path with the journal on it also carries what the root layer knew of the
/// request ([`Pending`]), so a journaled request costs one allocation here, and
/// the caller is moved into its entry rather than copied.
#[derive(Debug, Default)]
pub(crate) struct Noted {
    pub(crate) caller: std::sync::OnceLock<dingdir_core::Caller>,
    pub(crate) request: std::sync::OnceLock<axum::body::Bytes>,
    pub(crate) pending: Option<Pending>,
}

/// A request on the ordinary path with the journal on: what the root layer knew of it before the
/// handler ran, kept in the request's [`Noted`]. It becomes a journal entry when its answer has
/// been sent ([`crate::journal::answered`]).
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    pub(crate) at_ms: i64,
    pub(crate) gateway: Gateway,
    pub(crate) method: Method,
    /// The request's URI: it shares the connection's buffer only until the entry is made.
    pub(crate) uri: Uri,
    pub(crate) endpoint: Option<&'static str>,
    pub(crate) request_id: RequestId,
    pub(crate) form: bool,
    pub(crate) started: std::time::Instant,
}

/// An endpoint as the root layer found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Route {
    /// The endpoint's place among every gateway's endpoints, for per-endpoint counters.
    pub(crate) index: u16,
    /// The endpoint's name (`GetUser`).
    pub(crate) name: &'static str,
}

/// Leaves `caller` for the journal when the request is journaled or inspected; otherwise costs
/// a task-local read.
pub(crate) fn note_caller(caller: &dingdir_core::Caller) {
    let _ = CURRENT.try_with(|c| {
        if let Some(noted) = &c.noted {
            let _ = noted.caller.set(caller.clone());
        }
    });
}

/// Leaves the request body the handler read for the journal, the same way.
pub(crate) fn note_body(body: &axum::body::Bytes) {
    let _ = CURRENT.try_with(|c| {
        if let Some(noted) = &c.noted {
            let _ = noted.request.set(body.clone());
        }
    });
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
                let endpoint = c.route.map_or("-", |r| r.name);
                write!(f, "{} {path} ({endpoint}) id={}", c.method, c.id)
            })
            .unwrap_or_else(|_| f.write_str("-"))
    }
}

/// Lines a second that one kind of per-request line may log ([`LogKind`]); past it they are
/// counted, and the count is logged once the next second begins. A flood of bad requests (50,000
/// a second of wrong secrets) must not become a flood of log writes on the workers, nor fill a
/// disk; the first lines of each second still show what is going on, and one kind's flood does
/// not silence another's (a run of wrong passwords hides no admin-token guess).
const LOG_LINES_PER_SECOND: u32 = 20;

/// The kinds of per-request log line, each with its own budget.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LogKind {
    /// Gateway refusals, busy answers and sheds.
    Refusal,
    /// Sign-in posts and attempts.
    SignIn,
    /// Admin requests, refused ones included.
    Admin,
}

/// One kind's budget for the current second.
struct LogBudget {
    second: std::sync::atomic::AtomicU64,
    used: std::sync::atomic::AtomicU32,
    suppressed: std::sync::atomic::AtomicU64,
}

impl LogBudget {
    const fn new() -> Self {
        Self {
            second: std::sync::atomic::AtomicU64::new(0),
            used: std::sync::atomic::AtomicU32::new(0),
            suppressed: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn take(&self, kind: LogKind, now: u64) -> bool {
        use std::sync::atomic::Ordering;
        let second = self.second.load(Ordering::Relaxed);
        if now != second
            && self
                .second
                .compare_exchange(second, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.used.store(0, Ordering::Relaxed);
            let suppressed = self.suppressed.swap(0, Ordering::Relaxed);
            if suppressed > 0 {
                tracing::warn!(
                    suppressed,
                    ?kind,
                    "per-request log lines over {LOG_LINES_PER_SECOND} a second were not written"
                );
            }
        }
        if self.used.fetch_add(1, Ordering::Relaxed) < LOG_LINES_PER_SECOND {
            true
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            false
        }
    }
}

/// Whether a per-request log line of `kind` may be written now (see [`LOG_LINES_PER_SECOND`]).
pub(crate) fn log_budget(kind: LogKind) -> bool {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    static BUDGETS: [LogBudget; 3] = [LogBudget::new(), LogBudget::new(), LogBudget::new()];
    let now = EPOCH.get_or_init(std::time::Instant::now).elapsed().as_secs();
    let budget = match kind {
        LogKind::Refusal => &BUDGETS[0],
        LogKind::SignIn => &BUDGETS[1],
        LogKind::Admin => &BUDGETS[2],
    };
    budget.take(kind, now)
}

/// The legacy envelope of the request being served.
pub(crate) fn envelope() -> dingdir_proto::oapi::Envelope {
    CURRENT
        .try_with(|c| c.envelope)
        .unwrap_or(dingdir_proto::oapi::Envelope::Plain)
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
pub(crate) struct RequestId {
    bytes: [u8; 36],
    len: u8,
}

impl RequestId {
    /// An id as the gateway writes them: `8-4-4-4-12` upper-case hex on the new gateway
    /// (WIRE.md §A1), 13 lower-case alphanumerics on the legacy one (WIRE.md §B1).
    pub(crate) fn new(gateway: Gateway) -> Self {
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

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    pub(crate) fn as_str(&self) -> &str {
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
pub(crate) fn trace_id() -> [u8; 32] {
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

//! The request journal: the last DingTalk-gateway requests of this node, bounded by count and by
//! bytes, for "was it called N times, with what, and what did it get" assertions, and followed
//! live by subscribers.
//!
//! The inspected path (`tap.rs`), or the ordinary path through [`Pending`] and [`Journaled`]
//! when the journal is the only inspection on, records what it saw as it was ([`Recorded`]: the URI, the
//! two bodies as shared buffers, the caller the handler authenticated); everything derived from
//! it (the redacted path and bodies, DingTalk's code, the app, corp and user) is worked out the
//! first time the entry is read, and kept. Recording costs a few copies of pointers; redaction
//! happens before anything leaves the process (the admin API, a follower). Memory: at most
//! `max_bytes` of URIs and bodies plus about [`ENTRY_OVERHEAD`] bytes per entry.

use crate::request::{Gateway, Noted, RequestId};
use axum::body::Bytes;
use axum::http::{Method, Uri};
use dingdir_core::Caller;
use dingdir_proto::admin::{FaultFired, JournalEntry, JournalFilter};
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::broadcast;

/// What an entry costs beyond its URI and bodies: the struct, the `Arc`, the ring's slot, and
/// its derived view once read.
pub(crate) const ENTRY_OVERHEAD: usize = 1024;
/// The longest body an entry keeps; the rest is cut.
pub(crate) const MAX_BODY: usize = 64 * 1024;
/// The value that replaces a secret.
const REDACTED: &str = "<redacted>";
/// How far a follower may fall behind before it misses entries.
const FOLLOW_BACKLOG: usize = 4096;
/// The most entries one query answers.
pub(crate) const MAX_LIMIT: usize = 10_000;
const DEFAULT_LIMIT: usize = 100;

/// The journal's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalLimits {
    /// Entries kept at most.
    pub max_entries: usize,
    /// Bytes of entries kept at most, each counted as its URI and bodies plus 1 KiB.
    pub max_bytes: usize,
}

impl Default for JournalLimits {
    fn default() -> Self {
        Self {
            max_entries: 10_000,
            max_bytes: 32 * 1024 * 1024,
        }
    }
}

/// One node's journal.
pub(crate) struct Journal {
    limits: JournalLimits,
    ring: Mutex<Ring>,
    seq: AtomicU64,
    live: broadcast::Sender<Arc<Recorded>>,
}

#[derive(Default)]
struct Ring {
    entries: VecDeque<(Arc<Recorded>, usize)>,
    bytes: usize,
    evicted: u64,
}

/// A request as the inspected path saw it, before anything is derived from it.
pub(crate) struct Recorded {
    pub(crate) seq: u64,
    pub(crate) at_ms: i64,
    pub(crate) gateway: Gateway,
    pub(crate) method: Method,
    /// The request's `path?query`, in a buffer of its own: the request's own URI is a slice of
    /// the connection's read buffer, which an entry held for minutes would keep from being
    /// reused. Parsed back into a URI only when the entry is first read.
    target: Bytes,
    endpoint: Option<&'static str>,
    pub(crate) request_id: RequestId,
    /// Who the handler authenticated, when it did.
    pub(crate) caller: Option<Caller>,
    /// Whether the request body is a form.
    pub(crate) form: bool,
    pub(crate) status: Option<u16>,
    pub(crate) duration_us: u64,
    pub(crate) request: Bytes,
    pub(crate) answer: Bytes,
    pub(crate) fault: Option<FaultFired>,
    /// Boxed: most entries are never read, and an unread entry stays a few cache lines.
    view: OnceLock<Box<JournalEntry>>,
}

impl Recorded {
    /// An entry with no derived view yet; bodies over [`MAX_BODY`] keep their first 64 KiB and
    /// their length.
    #[expect(clippy::too_many_arguments, reason = "one field each; built in one place")]
    pub(crate) fn new(
        at_ms: i64,
        gateway: Gateway,
        method: Method,
        uri: &Uri,
        endpoint: Option<&'static str>,
        request_id: RequestId,
        form: bool,
        request: &[u8],
    ) -> Self {
        Self {
            seq: 0,
            at_ms,
            gateway,
            method,
            target: Bytes::copy_from_slice(uri.path_and_query().map_or("/", |pq| pq.as_str()).as_bytes()),
            endpoint,
            request_id,
            caller: None,
            form,
            status: None,
            duration_us: 0,
            request: bounded(
                Bytes::copy_from_slice(&request[..request.len().min(MAX_BODY + 1)]),
                request.len(),
            ),
            answer: Bytes::new(),
            fault: None,
            view: OnceLock::new(),
        }
    }

    /// Sets the answer body, bounded as the request's.
    pub(crate) fn set_answer(&mut self, answer: Bytes) {
        let len = answer.len();
        self.answer = bounded(answer, len);
    }

    fn size(&self) -> usize {
        ENTRY_OVERHEAD + self.target.len() + self.request.len() + self.answer.len()
    }

    /// The entry as it is shown: redacted, with what is derived from the raw request worked out
    /// once.
    pub(crate) fn view(&self) -> &JournalEntry {
        self.view.get_or_init(|| {
            Box::new({
                let legacy = self.gateway == Gateway::Oapi;
                let request_body = body(&self.request, self.form, true);
                let answer_body = body(&self.answer, false, false);
                let status = self.status.and_then(|s| axum::http::StatusCode::from_u16(s).ok());
                let code = status.and_then(|s| code(legacy, s, answer_body.as_ref()));
                let uri = Uri::from_maybe_shared(self.target.clone()).unwrap_or_default();
                let who = crate::params::who(&uri, self.form, &self.request, self.caller.as_ref());
                JournalEntry {
                    seq: self.seq,
                    at_ms: self.at_ms,
                    gateway: if legacy { "oapi" } else { "api" }.to_owned(),
                    method: self.method.as_str().to_owned(),
                    path: redact_query(uri.path(), uri.query()),
                    endpoint: self.endpoint.map(str::to_owned),
                    request_id: self.request_id.as_str().to_owned(),
                    app: who.app,
                    corp: who.corp,
                    user: who.user,
                    status: self.status,
                    code,
                    duration_us: self.duration_us,
                    request_body,
                    answer_body,
                    fault: self.fault.clone(),
                }
            })
        })
    }
}

/// A body kept whole up to [`MAX_BODY`]; a longer one is copied down to its first 64 KiB (so the
/// whole buffer is freed) and marked with its length when shown.
fn bounded(bytes: Bytes, whole: usize) -> Bytes {
    if whole <= MAX_BODY {
        return bytes;
    }
    let mut cut = bytes[..MAX_BODY].to_vec();
    cut.extend_from_slice(format!("… ({whole} bytes in all)").as_bytes());
    Bytes::from(cut)
}

/// DingTalk's code in an answer: the legacy `errcode`, or the new gateway's `code` on an error.
fn code(legacy: bool, status: axum::http::StatusCode, body: Option<&serde_json::Value>) -> Option<String> {
    let body = body?;
    if legacy {
        body.get("errcode").map(|c| match c {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    } else if status.is_client_error() || status.is_server_error() {
        body.get("code").and_then(serde_json::Value::as_str).map(str::to_owned)
    } else {
        None
    }
}

impl Journal {
    pub(crate) fn new(limits: JournalLimits) -> Self {
        Self {
            limits,
            ring: Mutex::new(Ring::default()),
            seq: AtomicU64::new(0),
            live: broadcast::channel(FOLLOW_BACKLOG).0,
        }
    }

    /// Keeps `entry` under the next seq, letting the oldest go while the journal is over either
    /// bound, and hands it to the followers.
    pub(crate) fn record(&self, mut entry: Recorded) {
        entry.seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let size = entry.size();
        let entry = Arc::new(entry);
        // The entries let go are freed after the lock is released: freeing their buffers under
        // it would hold up every other request being recorded.
        // Usually one entry goes per entry kept: it is held without allocating.
        let mut gone: (Option<Arc<Recorded>>, Vec<Arc<Recorded>>) = (None, Vec::new());
        {
            let mut ring = self.lock();
            ring.entries.push_back((entry.clone(), size));
            ring.bytes += size;
            while ring.entries.len() > self.limits.max_entries
                || (ring.bytes > self.limits.max_bytes && ring.entries.len() > 1)
            {
                if let Some((old, old_size)) = ring.entries.pop_front() {
                    ring.bytes -= old_size;
                    ring.evicted += 1;
                    match gone.0 {
                        None => gone.0 = Some(old),
                        Some(_) => gone.1.push(old),
                    }
                }
            }
        }
        drop(gone);
        // No follower is not an error.
        let _ = self.live.send(entry);
    }

    /// The newest `filter.limit` matching entries, oldest first, and the eviction count.
    pub(crate) fn query(&self, filter: &JournalFilter) -> (Vec<JournalEntry>, u64) {
        let limit = filter.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
        let (kept, evicted) = self.snapshot();
        let mut found: Vec<JournalEntry> = kept
            .iter()
            .rev()
            .map(|e| e.view())
            .filter(|v| matches(filter, v))
            .take(limit)
            .cloned()
            .collect();
        found.reverse();
        (found, evicted)
    }

    /// How many kept entries match.
    pub(crate) fn count(&self, filter: &JournalFilter) -> u64 {
        let (kept, _) = self.snapshot();
        kept.iter().filter(|e| matches(filter, e.view())).count() as u64
    }

    /// The kept entries and the eviction count, taken under the lock; an entry's view is worked
    /// out after it is released, so a query never holds up the requests being recorded.
    fn snapshot(&self) -> (Vec<Arc<Recorded>>, u64) {
        let ring = self.lock();
        (ring.entries.iter().map(|(e, _)| e.clone()).collect(), ring.evicted)
    }

    /// Entries held, the bytes they are counted as, and the entries let go since start.
    pub(crate) fn size(&self) -> (usize, usize, u64) {
        let ring = self.lock();
        (ring.entries.len(), ring.bytes, ring.evicted)
    }

    /// Forgets every entry (the sequence goes on).
    pub(crate) fn clear(&self) -> usize {
        let mut ring = self.lock();
        let n = ring.entries.len();
        ring.entries.clear();
        ring.bytes = 0;
        n
    }

    /// Entries as they are recorded, from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<Recorded>> {
        self.live.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `response` with its body journaled as it is sent: the entry is recorded when hyper is done
/// with the body (sent whole, or cut off by the client). `noted` carries a
/// [`Pending`](crate::request::Pending).
pub(crate) fn answered(
    journal: Arc<Journal>,
    noted: Arc<Noted>,
    response: axum::response::Response,
) -> axum::response::Response {
    let status = response.status().as_u16();
    let duration_us = noted.pending.as_ref().map_or(0, |p| {
        u64::try_from(p.started.elapsed().as_micros()).unwrap_or(u64::MAX)
    });
    response.map(|inner| {
        axum::body::Body::new(Journaled {
            inner,
            journal,
            noted: Some(noted),
            status,
            duration_us,
            answer: Bytes::new(),
        })
    })
}

pin_project_lite::pin_project! {
    /// An answer's body that hands its request to the journal once it is done with.
    pub(crate) struct Journaled {
        #[pin]
        inner: axum::body::Body,
        journal: Arc<Journal>,
        noted: Option<Arc<Noted>>,
        status: u16,
        duration_us: u64,
        answer: Bytes,
    }

    impl PinnedDrop for Journaled {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(noted) = this.noted.take() {
                let answer = std::mem::take(this.answer);
                record_pending(this.journal, noted, *this.status, *this.duration_us, answer);
            }
        }
    }
}

/// Records the request `noted` describes. By the time its answer is sent the request's context
/// is gone, so `noted` is usually the last reference and its caller and body move into the
/// entry; otherwise they are copied.
fn record_pending(journal: &Journal, noted: Arc<Noted>, status: u16, duration_us: u64, answer: Bytes) {
    let (caller, request, pending) = match Arc::try_unwrap(noted) {
        Ok(n) => (n.caller.into_inner(), n.request.into_inner(), n.pending),
        Err(shared) => (
            shared.caller.get().cloned(),
            shared.request.get().cloned(),
            shared.pending.clone(),
        ),
    };
    let Some(p) = pending else { return };
    let mut entry = Recorded::new(
        p.at_ms,
        p.gateway,
        p.method,
        &p.uri,
        p.endpoint,
        p.request_id,
        p.form,
        request.as_deref().unwrap_or_default(),
    );
    entry.status = Some(status);
    entry.duration_us = duration_us;
    entry.caller = caller;
    entry.set_answer(answer);
    journal.record(entry);
}

impl hyper::body::Body for Journaled {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, axum::Error>>> {
        let mut this = self.project();
        let polled = this.inner.as_mut().poll_frame(cx);
        if let std::task::Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
            && this.answer.len() <= MAX_BODY
        {
            // Every handler answers in one frame: keeping it shares the buffer being sent.
            *this.answer = if this.answer.is_empty() {
                data.clone()
            } else {
                let mut joined = Vec::with_capacity(this.answer.len() + data.len());
                joined.extend_from_slice(this.answer);
                joined.extend_from_slice(data);
                Bytes::from(joined)
            };
        }
        // Recorded before the last frame is handed on, so a client that has read the answer
        // finds the entry; a body dropped before its end is recorded on drop.
        let done = match &polled {
            std::task::Poll::Ready(None | Some(Err(_))) => true,
            std::task::Poll::Ready(Some(Ok(_))) => this.inner.is_end_stream(),
            std::task::Poll::Pending => false,
        };
        if done && let Some(noted) = this.noted.take() {
            record_pending(
                this.journal,
                noted,
                *this.status,
                *this.duration_us,
                std::mem::take(this.answer),
            );
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether `entry` passes every filter given.
pub(crate) fn matches(f: &JournalFilter, e: &JournalEntry) -> bool {
    let same = |want: &Option<String>, got: &Option<String>| want.is_none() || want == got;
    same(&f.endpoint, &e.endpoint)
        && same(&f.app, &e.app)
        && same(&f.corp, &e.corp)
        && same(&f.user, &e.user)
        && same(&f.code, &e.code)
        && f.status.is_none_or(|s| e.status == Some(s))
        && f.since_ms.is_none_or(|t| e.at_ms >= t)
        && f.until_ms.is_none_or(|t| e.at_ms < t)
        && f.after.is_none_or(|seq| e.seq > seq)
        && f.faulted.is_none_or(|want| want == e.fault.is_some())
}

/// Whether a parameter or field named `key` holds a credential. `code` counts only in requests:
/// there it is a sign-in code, in a new-gateway error answer it is the error's code.
fn is_secret(key: &str, request: bool) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("secret")
        || k.contains("token")
        || k.contains("password")
        || k.contains("ticket")
        || k.contains("signature")
        || (request && (k == "code" || k.ends_with("authcode") || k.ends_with("auth_code")))
}

/// `path?query` with every credential's value replaced.
pub(crate) fn redact_query(path: &str, query: Option<&str>) -> String {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return path.to_owned();
    };
    let mut out = form_urlencoded::Serializer::for_suffix(format!("{path}?"), path.len() + 1);
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        out.append_pair(&k, if is_secret(&k, true) { REDACTED } else { &v });
    }
    out.finish()
}

/// A body as the journal shows it: JSON with credentials replaced, a form as an object the same
/// way, other text as a string; `None` when empty.
pub(crate) fn body(bytes: &[u8], form: bool, request: bool) -> Option<serde_json::Value> {
    if bytes.is_empty() {
        return None;
    }
    if form {
        let fields = form_urlencoded::parse(bytes)
            .map(|(k, v)| {
                let v = if is_secret(&k, request) {
                    REDACTED.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), serde_json::Value::String(v))
            })
            .collect();
        return Some(serde_json::Value::Object(fields));
    }
    if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(bytes) {
        redact(&mut value, request);
        return Some(value);
    }
    Some(serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn redact(value: &mut serde_json::Value, request: bool) {
    match value {
        serde_json::Value::Object(fields) => {
            for (k, v) in fields.iter_mut() {
                if is_secret(k, request) && !v.is_null() {
                    *v = serde_json::Value::String(REDACTED.to_owned());
                } else {
                    redact(v, request);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact(v, request)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(code: &str) -> Recorded {
        let mut e = Recorded::new(
            1_000,
            Gateway::Oapi,
            Method::POST,
            &Uri::from_static("/topapi/v2/user/getbymobile"),
            Some("V2UserGetByMobile"),
            RequestId::new(Gateway::Oapi),
            false,
            &[],
        );
        e.status = Some(200);
        e.set_answer(Bytes::from(format!(r#"{{"errcode":{code}}}"#)));
        e
    }

    #[test]
    fn the_ring_keeps_the_newest_within_both_bounds_and_counts_what_it_let_go() {
        let journal = Journal::new(JournalLimits {
            max_entries: 3,
            max_bytes: usize::MAX,
        });
        for i in 0..5 {
            journal.record(entry(&i.to_string()));
        }
        let (kept, evicted) = journal.query(&JournalFilter::default());
        assert_eq!(kept.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4, 5]);
        assert_eq!(evicted, 2);

        let small = Journal::new(JournalLimits {
            max_entries: 100,
            max_bytes: 2 * ENTRY_OVERHEAD + 200,
        });
        for _ in 0..5 {
            small.record(entry("0"));
        }
        assert_eq!(small.count(&JournalFilter::default()), 2);
    }

    #[test]
    fn filters_and_limits_pick_the_newest_matches_oldest_first() {
        let journal = Journal::new(JournalLimits::default());
        for code in ["-1", "0", "-1", "0", "-1"] {
            journal.record(entry(code));
        }
        let busy = JournalFilter {
            code: Some("-1".to_owned()),
            ..JournalFilter::default()
        };
        assert_eq!(journal.count(&busy), 3);
        let newest_two = JournalFilter { limit: Some(2), ..busy };
        let (found, _) = journal.query(&newest_two);
        assert_eq!(found.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 5]);
        let after = JournalFilter {
            after: Some(4),
            ..JournalFilter::default()
        };
        assert_eq!(journal.count(&after), 1);
    }

    #[test]
    fn credentials_are_redacted_in_queries_and_bodies() {
        assert_eq!(
            redact_query("/gettoken", Some("appkey=dingx&appsecret=s3cret")),
            "/gettoken?appkey=dingx&appsecret=%3Credacted%3E"
        );
        assert_eq!(
            redact_query("/topapi/v2/user/get", Some("access_token=abc")),
            "/topapi/v2/user/get?access_token=%3Credacted%3E"
        );
        let request = br#"{"clientId":"dingx","clientSecret":"s","code":"c1","grantType":"authorization_code","refreshToken":"r","nested":{"password":"p"}}"#;
        assert_eq!(
            body(request, false, true),
            Some(
                json!({"clientId": "dingx", "clientSecret": "<redacted>", "code": "<redacted>", "grantType": "authorization_code", "refreshToken": "<redacted>", "nested": {"password": "<redacted>"}})
            )
        );
        let answer = br#"{"code":"Forbidden.AccessDenied","accessToken":"t","expireIn":7200}"#;
        assert_eq!(
            body(answer, false, false),
            Some(json!({"code": "Forbidden.AccessDenied", "accessToken": "<redacted>", "expireIn": 7200}))
        );
        assert_eq!(
            body(b"mobile=150&access_token=t", true, true),
            Some(json!({"mobile": "150", "access_token": "<redacted>"}))
        );
        let long = bounded(Bytes::from(vec![b'x'; MAX_BODY + 10]), MAX_BODY + 10);
        let kept = body(&long, false, true)
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        assert!(kept.ends_with(&format!("… ({} bytes in all)", MAX_BODY + 10)));
        assert_eq!(
            kept.len(),
            MAX_BODY + format!("… ({} bytes in all)", MAX_BODY + 10).len()
        );
    }
}

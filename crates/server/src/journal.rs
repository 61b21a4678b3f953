//! The request journal: the last DingTalk-gateway requests of this node, bounded by count and by
//! bytes, for "was it called N times, with what, and what did it get" assertions, and followed
//! live by subscribers.
//!
//! Entries are recorded by the inspected path ([`crate::tap`]) with secrets, tokens, passwords
//! and sign-in codes redacted before they are kept. Memory: at most `max_bytes` of entry text
//! plus about [`ENTRY_OVERHEAD`] bytes per entry, as [`Journal::record`] counts them.

use dingdir_proto::admin::{JournalEntry, JournalFilter};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// What an entry costs beyond its strings and bodies: the struct, the `Arc`, the ring's slot.
pub(crate) const ENTRY_OVERHEAD: usize = 512;
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
    /// Bytes of entries kept at most, each counted as its text plus 512 bytes.
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
    live: broadcast::Sender<Arc<JournalEntry>>,
}

#[derive(Default)]
struct Ring {
    entries: VecDeque<(Arc<JournalEntry>, usize)>,
    bytes: usize,
    evicted: u64,
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

    /// The next entry's `seq`.
    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Keeps `entry`, letting the oldest go while the journal is over either bound, and hands it
    /// to the followers.
    pub(crate) fn record(&self, entry: JournalEntry) {
        let size = ENTRY_OVERHEAD + size_of(&entry);
        let entry = Arc::new(entry);
        {
            let mut ring = self.lock();
            ring.entries.push_back((entry.clone(), size));
            ring.bytes += size;
            while ring.entries.len() > self.limits.max_entries
                || (ring.bytes > self.limits.max_bytes && ring.entries.len() > 1)
            {
                if let Some((_, gone)) = ring.entries.pop_front() {
                    ring.bytes -= gone;
                    ring.evicted += 1;
                }
            }
        }
        // No follower is not an error.
        let _ = self.live.send(entry);
    }

    /// The newest `filter.limit` matching entries, oldest first, and the eviction count.
    pub(crate) fn query(&self, filter: &JournalFilter) -> (Vec<JournalEntry>, u64) {
        let limit = filter.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
        let ring = self.lock();
        let mut found: Vec<JournalEntry> = ring
            .entries
            .iter()
            .rev()
            .filter(|(e, _)| matches(filter, e))
            .take(limit)
            .map(|(e, _)| JournalEntry::clone(e))
            .collect();
        found.reverse();
        (found, ring.evicted)
    }

    /// How many kept entries match.
    pub(crate) fn count(&self, filter: &JournalFilter) -> u64 {
        self.lock().entries.iter().filter(|(e, _)| matches(filter, e)).count() as u64
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
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<JournalEntry>> {
        self.live.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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

fn size_of(e: &JournalEntry) -> usize {
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let body = |b: &Option<serde_json::Value>| b.as_ref().map_or(0, value_size);
    e.path.len()
        + e.method.len()
        + e.request_id.len()
        + opt(&e.endpoint)
        + opt(&e.app)
        + opt(&e.corp)
        + opt(&e.user)
        + opt(&e.code)
        + body(&e.request_body)
        + body(&e.answer_body)
}

/// A JSON value's size in memory, roughly: its text plus a word per node.
fn value_size(v: &serde_json::Value) -> usize {
    use serde_json::Value as V;
    32 + match v {
        V::Null | V::Bool(_) | V::Number(_) => 0,
        V::String(s) => s.len(),
        V::Array(a) => a.iter().map(value_size).sum(),
        V::Object(o) => o.iter().map(|(k, v)| 32 + k.len() + value_size(v)).sum(),
    }
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

/// A body as the journal keeps it: JSON with credentials replaced, a form as an object the same
/// way, other text as a string, cut at [`MAX_BODY`]; `None` when empty.
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
    if bytes.len() <= MAX_BODY {
        if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(bytes) {
            redact(&mut value, request);
            return Some(value);
        }
    }
    let cut = &bytes[..bytes.len().min(MAX_BODY)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if bytes.len() > MAX_BODY {
        text.push_str(&format!("… ({} bytes in all)", bytes.len()));
    }
    Some(serde_json::Value::String(text))
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

    fn entry(journal: &Journal, endpoint: &str, code: &str) -> JournalEntry {
        JournalEntry {
            seq: journal.next_seq(),
            at_ms: 1_000,
            gateway: "oapi".to_owned(),
            method: "POST".to_owned(),
            path: "/topapi/v2/user/getbymobile".to_owned(),
            endpoint: Some(endpoint.to_owned()),
            request_id: "abc".to_owned(),
            app: None,
            corp: None,
            user: None,
            status: Some(200),
            code: Some(code.to_owned()),
            duration_us: 10,
            request_body: None,
            answer_body: None,
            fault: None,
        }
    }

    #[test]
    fn the_ring_keeps_the_newest_within_both_bounds_and_counts_what_it_let_go() {
        let journal = Journal::new(JournalLimits {
            max_entries: 3,
            max_bytes: usize::MAX,
        });
        for i in 0..5 {
            journal.record(entry(&journal, "V2UserGetByMobile", &i.to_string()));
        }
        let (kept, evicted) = journal.query(&JournalFilter::default());
        assert_eq!(kept.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4, 5]);
        assert_eq!(evicted, 2);

        let small = Journal::new(JournalLimits {
            max_entries: 100,
            max_bytes: 2 * ENTRY_OVERHEAD + 200,
        });
        for _ in 0..5 {
            small.record(entry(&small, "V2UserGetByMobile", "0"));
        }
        assert_eq!(small.count(&JournalFilter::default()), 2);
    }

    #[test]
    fn filters_and_limits_pick_the_newest_matches_oldest_first() {
        let journal = Journal::new(JournalLimits::default());
        for code in ["-1", "0", "-1", "0", "-1"] {
            journal.record(entry(&journal, "V2UserGetByMobile", code));
        }
        journal.record(entry(&journal, "GetToken", "0"));
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
        assert_eq!(journal.count(&after), 2);
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
        let long = vec![b'x'; MAX_BODY + 10];
        let kept = body(&long, false, true)
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        assert!(kept.ends_with(&format!("… ({} bytes in all)", MAX_BODY + 10)));
    }
}

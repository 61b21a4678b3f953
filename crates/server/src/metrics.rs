//! The node's metrics: one registry that the Prometheus exposition
//! (`GET /_dingdir/metrics/prometheus`) and the JSON counters (`GET /_dingdir/metrics`) both
//! read, so the two never disagree.
//!
//! The root layer counts every answer by endpoint, gateway, HTTP status and DingTalk code, and
//! times it. An answer with status 200 and no error code (nearly all of them) costs three relaxed
//! adds on this thread's own cache line ([`dingdir_core::stats::Striped`] lines); an error
//! answer takes the lock of its thread's stripe of the outcome counts, so a flood of errors on
//! every core does not queue on one lock. The code comes from the error that made the
//! answer ([`crate::request::Answered`]), never from parsing the body.

use crate::request::{Answered, Gateway};
use dingdir_core::stats::{LATENCY_BUCKETS_US, Latency, STRIPES, Striped, bucket_of, stripe};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

const BUCKETS: usize = LATENCY_BUCKETS_US.len() + 1;
/// Endpoints counted apart; a test keeps every gateway's endpoints under it.
pub(crate) const MAX_ROUTES: usize = 128;

/// One endpoint's counters on one stripe.
#[repr(align(128))]
#[derive(Default)]
struct Cell {
    /// Answers with status 200 and no DingTalk error code.
    plain: AtomicU64,
    buckets: [AtomicU64; BUCKETS],
    sum_us: AtomicU64,
}

/// The outcome of an answer that is not plain: its status and code.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Outcome {
    route: usize,
    gateway: Gateway,
    status: u16,
    code: Option<Answered>,
}

/// One stripe's outcome counts, on its own cache lines.
#[repr(align(128))]
#[derive(Default)]
struct Stripe(Mutex<HashMap<Outcome, u64>>);

/// This node's counters.
pub(crate) struct Metrics {
    /// `MAX_ROUTES + 1` endpoints (the last is "no endpoint") × [`STRIPES`].
    cells: Box<[Cell]>,
    /// Counts by outcome, one map per stripe.
    outcomes: Box<[Stripe]>,
    shed: [Striped; 4],
    rate_limited: Mutex<HashMap<&'static str, u64>>,
    faults_fired: Mutex<HashMap<&'static str, u64>>,
    connections_open: AtomicI64,
    connections_accepted: AtomicU64,
    connections_refused: AtomicU64,
}

/// The facts the exposition reads from outside the registry, gathered by the caller.
pub(crate) struct Gauges<'a> {
    /// Every endpoint's name and gateway, in route order.
    pub(crate) routes: &'a [(&'static str, Gateway)],
    pub(crate) in_flight: usize,
    pub(crate) store_reads: u64,
    pub(crate) store_calls: Vec<dingdir_core::stats::StoreCallStats>,
    pub(crate) caches: Vec<dingdir_core::stats::CacheStats>,
    /// Entries, bytes and evictions, when the journal is on.
    pub(crate) journal: Option<(usize, usize, u64)>,
    pub(crate) fault_rules: usize,
    pub(crate) rate_limits: usize,
    /// Stream WebSockets open on this node, and events pushed and acked on them.
    pub(crate) stream: (usize, u64, u64),
}

fn gateway_label(g: Gateway) -> &'static str {
    match g {
        Gateway::Api => "api",
        Gateway::Oapi => "oapi",
        Gateway::Admin => "admin",
        Gateway::Browser => "browser",
    }
}

fn gateway_slot(g: Gateway) -> usize {
    match g {
        Gateway::Api => 0,
        Gateway::Oapi => 1,
        Gateway::Admin => 2,
        Gateway::Browser => 3,
    }
}

const GATEWAYS: [Gateway; 4] = [Gateway::Api, Gateway::Oapi, Gateway::Admin, Gateway::Browser];

impl Metrics {
    /// An empty registry.
    pub(crate) fn new() -> Self {
        Self {
            cells: (0..(MAX_ROUTES + 1) * STRIPES).map(|_| Cell::default()).collect(),
            outcomes: (0..STRIPES).map(|_| Stripe::default()).collect(),
            shed: Default::default(),
            rate_limited: Mutex::new(HashMap::new()),
            faults_fired: Mutex::new(HashMap::new()),
            connections_open: AtomicI64::new(0),
            connections_accepted: AtomicU64::new(0),
            connections_refused: AtomicU64::new(0),
        }
    }

    /// Counts and times one answer. `route` is the endpoint's index, `None` for a path no
    /// endpoint serves.
    pub(crate) fn answered(&self, route: Option<u16>, gateway: Gateway, status: u16, code: Option<&Answered>, us: u64) {
        let route = route.map_or(MAX_ROUTES, usize::from).min(MAX_ROUTES);
        // A scripted `errcode: 0` answers as success does, and is counted as one.
        let code = code.filter(|c| **c != Answered::Errcode(0));
        let cell = &self.cells[route * STRIPES + stripe()];
        cell.buckets[bucket_of(us)].fetch_add(1, Ordering::Relaxed);
        cell.sum_us.fetch_add(us, Ordering::Relaxed);
        if status == 200 && code.is_none() && route < MAX_ROUTES {
            cell.plain.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let outcome = Outcome {
            route,
            gateway,
            status,
            code: code.cloned(),
        };
        *lock(&self.outcomes[stripe()].0).entry(outcome).or_insert(0) += 1;
    }

    /// Counts a request shed over the in-flight limit (it is also answered, and counted so).
    pub(crate) fn shed(&self, gateway: Gateway) {
        self.shed[gateway_slot(gateway)].add(1);
    }

    /// Counts a call refused by a rate limit.
    pub(crate) fn rate_limited(&self, endpoint: &'static str) {
        *lock(&self.rate_limited).entry(endpoint).or_insert(0) += 1;
    }

    /// Counts a fault rule firing, by what it did.
    pub(crate) fn fault_fired(&self, kind: &'static str) {
        *lock(&self.faults_fired).entry(kind).or_insert(0) += 1;
    }

    /// A connection was accepted and is open.
    pub(crate) fn connection_opened(&self) {
        self.connections_accepted.fetch_add(1, Ordering::Relaxed);
        self.connections_open.fetch_add(1, Ordering::Relaxed);
    }

    /// An open connection ended.
    pub(crate) fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
    }

    /// A connection was closed at once, over the connection cap.
    pub(crate) fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests answered on DingTalk's gateways and the sign-in pages (the admin API's are not
    /// counted): the JSON metrics' `requests`.
    pub(crate) fn gateway_requests(&self, routes: &[(&'static str, Gateway)]) -> u64 {
        self.requests(routes)
            .into_iter()
            .filter(|(_, gateway, _, _, _)| *gateway != Gateway::Admin)
            .map(|(.., n)| n)
            .sum()
    }

    /// Every (route, gateway, status, code) with its count; `routes` gives the plain answers
    /// their gateway.
    fn requests(&self, routes: &[(&'static str, Gateway)]) -> Vec<(usize, Gateway, u16, Option<Answered>, u64)> {
        let mut all = Vec::new();
        for route in 0..MAX_ROUTES {
            let plain: u64 = self.stripes(route).map(|c| c.plain.load(Ordering::Relaxed)).sum();
            if plain > 0 {
                let gateway = routes.get(route).map_or(Gateway::Api, |r| r.1);
                all.push((route, gateway, 200, None, plain));
            }
        }
        let mut merged: HashMap<Outcome, u64> = HashMap::new();
        for s in &self.outcomes {
            for (o, n) in lock(&s.0).iter() {
                *merged.entry(o.clone()).or_insert(0) += n;
            }
        }
        for (o, n) in merged {
            all.push((o.route, o.gateway, o.status, o.code, n));
        }
        all.sort_by_key(|a| (a.0, gateway_slot(a.1), a.2));
        all
    }

    fn stripes(&self, route: usize) -> impl Iterator<Item = &Cell> {
        self.cells[route * STRIPES..(route + 1) * STRIPES].iter()
    }

    fn latency(&self, route: usize) -> Latency {
        let mut latency = Latency::default();
        for cell in self.stripes(route) {
            for (sum, b) in latency.buckets.iter_mut().zip(&cell.buckets) {
                *sum += b.load(Ordering::Relaxed);
            }
            latency.sum_us += cell.sum_us.load(Ordering::Relaxed);
        }
        latency
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric.
    pub(crate) fn render(&self, g: &Gauges<'_>) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let name_of = |route: usize| g.routes.get(route).map_or("-", |r| r.0);

        family(
            &mut out,
            "dingdir_build_info",
            "gauge",
            "The running dingdir's version.",
        );
        sample(
            &mut out,
            "dingdir_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1,
        );

        family(
            &mut out,
            "dingdir_requests_total",
            "counter",
            "Requests answered, by endpoint (- for a path no endpoint serves), gateway, HTTP status and DingTalk code (errcode on the legacy gateway, 0 on success; code on the new gateway, empty on success).",
        );
        for (route, gateway, status, code, n) in self.requests(g.routes) {
            let code = match (&code, gateway) {
                (Some(Answered::Errcode(c)), _) => c.to_string(),
                (Some(Answered::Code(c)), _) => c.to_string(),
                (None, Gateway::Oapi) => "0".to_owned(),
                (None, _) => String::new(),
            };
            let status = status.to_string();
            let labels = [
                ("endpoint", name_of(route)),
                ("gateway", gateway_label(gateway)),
                ("status", status.as_str()),
                ("code", code.as_str()),
            ];
            sample(&mut out, "dingdir_requests_total", &labels, n);
        }

        family(
            &mut out,
            "dingdir_request_duration_seconds",
            "histogram",
            "Time from a request's arrival to its answer's head, by endpoint.",
        );
        for route in 0..=MAX_ROUTES {
            let latency = self.latency(route);
            if latency.count() > 0 {
                histogram(
                    &mut out,
                    "dingdir_request_duration_seconds",
                    ("endpoint", name_of(route)),
                    &latency,
                );
            }
        }

        family(
            &mut out,
            "dingdir_shed_requests_total",
            "counter",
            "Requests answered \"system busy\" at once because the in-flight limit was reached.",
        );
        for gateway in GATEWAYS {
            let n = self.shed[gateway_slot(gateway)].get();
            sample(
                &mut out,
                "dingdir_shed_requests_total",
                &[("gateway", gateway_label(gateway))],
                n,
            );
        }
        family(
            &mut out,
            "dingdir_in_flight_requests",
            "gauge",
            "Gateway requests being served now.",
        );
        sample(&mut out, "dingdir_in_flight_requests", &[], g.in_flight as u64);

        family(
            &mut out,
            "dingdir_rate_limited_total",
            "counter",
            "Calls refused by a rate limit, by endpoint.",
        );
        let mut limited: Vec<_> = lock(&self.rate_limited).iter().map(|(e, n)| (*e, *n)).collect();
        limited.sort();
        for (endpoint, n) in limited {
            sample(&mut out, "dingdir_rate_limited_total", &[("endpoint", endpoint)], n);
        }
        family(&mut out, "dingdir_rate_limits", "gauge", "Rate limits in force.");
        sample(&mut out, "dingdir_rate_limits", &[], g.rate_limits as u64);

        family(
            &mut out,
            "dingdir_faults_fired_total",
            "counter",
            "Scripted faults that fired, by what they did.",
        );
        let mut fired: Vec<_> = lock(&self.faults_fired).iter().map(|(k, n)| (*k, *n)).collect();
        fired.sort();
        for (kind, n) in fired {
            sample(&mut out, "dingdir_faults_fired_total", &[("kind", kind)], n);
        }
        family(&mut out, "dingdir_fault_rules", "gauge", "Fault rules armed.");
        sample(&mut out, "dingdir_fault_rules", &[], g.fault_rules as u64);
        family(
            &mut out,
            "dingdir_stream_connections",
            "gauge",
            "Stream mode WebSockets open on this node.",
        );
        sample(&mut out, "dingdir_stream_connections", &[], g.stream.0 as u64);
        family(
            &mut out,
            "dingdir_stream_frames_sent",
            "gauge",
            "Frames pushed on the Stream connections open now.",
        );
        sample(&mut out, "dingdir_stream_frames_sent", &[], g.stream.1);
        family(
            &mut out,
            "dingdir_stream_acks",
            "gauge",
            "Acknowledgements read on the Stream connections open now.",
        );
        sample(&mut out, "dingdir_stream_acks", &[], g.stream.2);

        family(
            &mut out,
            "dingdir_connections_open",
            "gauge",
            "Client connections open now.",
        );
        let open = self.connections_open.load(Ordering::Relaxed).max(0);
        sample(&mut out, "dingdir_connections_open", &[], open.unsigned_abs());
        family(
            &mut out,
            "dingdir_connections_accepted_total",
            "counter",
            "Client connections accepted.",
        );
        let accepted = self.connections_accepted.load(Ordering::Relaxed);
        sample(&mut out, "dingdir_connections_accepted_total", &[], accepted);
        family(
            &mut out,
            "dingdir_connections_refused_total",
            "counter",
            "Client connections closed at once because the connection cap was reached.",
        );
        let refused = self.connections_refused.load(Ordering::Relaxed);
        sample(&mut out, "dingdir_connections_refused_total", &[], refused);

        family(
            &mut out,
            "dingdir_store_reads_total",
            "counter",
            "Store calls that read, made while serving requests.",
        );
        sample(&mut out, "dingdir_store_reads_total", &[], g.store_reads);
        family(
            &mut out,
            "dingdir_store_call_errors_total",
            "counter",
            "Store calls that failed, by call and kind.",
        );
        for c in &g.store_calls {
            sample(
                &mut out,
                "dingdir_store_call_errors_total",
                &[("call", c.name), ("kind", c.kind)],
                c.errors,
            );
        }
        family(
            &mut out,
            "dingdir_store_call_timeouts_total",
            "counter",
            "Store calls that did not answer within the store timeout, by call and kind.",
        );
        for c in &g.store_calls {
            let labels = [("call", c.name), ("kind", c.kind)];
            sample(&mut out, "dingdir_store_call_timeouts_total", &labels, c.timeouts);
        }
        family(
            &mut out,
            "dingdir_store_call_duration_seconds",
            "histogram",
            "How long store calls made while serving requests took, by call.",
        );
        for c in &g.store_calls {
            histogram(
                &mut out,
                "dingdir_store_call_duration_seconds",
                ("call", c.name),
                &c.latency,
            );
        }

        family(
            &mut out,
            "dingdir_cache_hits_total",
            "counter",
            "Cache lookups answered from the cache.",
        );
        for c in &g.caches {
            sample(&mut out, "dingdir_cache_hits_total", &[("cache", c.name)], c.hits);
        }
        family(
            &mut out,
            "dingdir_cache_misses_total",
            "counter",
            "Cache lookups the cache could not answer (absent or expired).",
        );
        for c in &g.caches {
            sample(&mut out, "dingdir_cache_misses_total", &[("cache", c.name)], c.misses);
        }
        family(
            &mut out,
            "dingdir_cache_entries",
            "gauge",
            "Entries held by each cache now.",
        );
        for c in &g.caches {
            sample(&mut out, "dingdir_cache_entries", &[("cache", c.name)], c.entries);
        }

        if let Some((entries, bytes, evicted)) = g.journal {
            family(
                &mut out,
                "dingdir_journal_entries",
                "gauge",
                "Entries the request journal holds.",
            );
            sample(&mut out, "dingdir_journal_entries", &[], entries as u64);
            family(
                &mut out,
                "dingdir_journal_bytes",
                "gauge",
                "Bytes the request journal's entries are counted as.",
            );
            sample(&mut out, "dingdir_journal_bytes", &[], bytes as u64);
            family(
                &mut out,
                "dingdir_journal_evicted_total",
                "counter",
                "Journal entries let go to stay within the journal's bounds.",
            );
            sample(&mut out, "dingdir_journal_evicted_total", &[], evicted);
        }
        out
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", help.replace('\\', "\\\\").replace('\n', "\\n"));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: u64) {
    out.push_str(name);
    write_labels(out, labels);
    let _ = writeln!(out, " {value}");
}

fn write_labels(out: &mut String, labels: &[(&str, &str)]) {
    if labels.is_empty() {
        return;
    }
    out.push('{');
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        for ch in v.chars() {
            match ch {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
}

/// A histogram's cumulative buckets, sum (in seconds) and count.
fn histogram(out: &mut String, name: &str, label: (&str, &str), latency: &Latency) {
    let mut cumulative = 0;
    for (i, n) in latency.buckets.iter().enumerate() {
        cumulative += n;
        let le = match LATENCY_BUCKETS_US.get(i) {
            Some(us) => seconds(*us),
            None => "+Inf".to_owned(),
        };
        out.push_str(name);
        out.push_str("_bucket");
        write_labels(out, &[label, ("le", le.as_str())]);
        let _ = writeln!(out, " {cumulative}");
    }
    out.push_str(name);
    out.push_str("_sum");
    write_labels(out, &[label]);
    let _ = writeln!(out, " {}", seconds(latency.sum_us));
    out.push_str(name);
    out.push_str("_count");
    write_labels(out, &[label]);
    let _ = writeln!(out, " {cumulative}");
}

/// Microseconds as seconds, exactly (`250` is `0.00025`).
fn seconds(us: u64) -> String {
    let whole = us / 1_000_000;
    let frac = us % 1_000_000;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_exact() {
        assert_eq!(seconds(250), "0.00025");
        assert_eq!(seconds(1_000_000), "1");
        assert_eq!(seconds(2_500_000), "2.5");
        assert_eq!(seconds(0), "0");
    }

    #[test]
    fn labels_are_escaped() {
        let mut out = String::new();
        sample(&mut out, "m", &[("code", "a\"b\\c\nd")], 1);
        assert_eq!(out, "m{code=\"a\\\"b\\\\c\\nd\"} 1\n");
    }

    #[test]
    fn error_answers_counted_on_many_threads_add_up_across_stripes() {
        let m = std::sync::Arc::new(Metrics::new());
        let threads: Vec<_> = (0..12)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..500 {
                        m.answered(Some(1), Gateway::Oapi, 200, Some(&Answered::Errcode(-1)), 10);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("a counting thread");
        }
        let routes = [("GetUser", Gateway::Api), ("GetToken", Gateway::Oapi)];
        let counted: Vec<_> = m.requests(&routes).into_iter().map(|r| (r.0, r.2, r.4)).collect();
        assert_eq!(counted, [(1, 200, 6_000)], "one outcome, summed over every stripe");
    }

    #[test]
    fn answers_count_by_outcome_and_plain_ones_by_endpoint() {
        let m = Metrics::new();
        m.answered(Some(0), Gateway::Api, 200, None, 40);
        m.answered(Some(0), Gateway::Api, 200, None, 60);
        m.answered(Some(1), Gateway::Oapi, 200, Some(&Answered::Errcode(-1)), 3_000);
        m.answered(None, Gateway::Api, 404, Some(&Answered::Code("NotFound".into())), 10);
        let routes = [("GetUser", Gateway::Api), ("GetToken", Gateway::Oapi)];
        let text = m.render(&Gauges {
            routes: &routes,
            in_flight: 0,
            store_reads: 0,
            store_calls: Vec::new(),
            caches: Vec::new(),
            journal: None,
            fault_rules: 0,
            rate_limits: 0,
            stream: (0, 0, 0),
        });
        for line in [
            "dingdir_requests_total{endpoint=\"GetUser\",gateway=\"api\",status=\"200\",code=\"\"} 2",
            "dingdir_requests_total{endpoint=\"GetToken\",gateway=\"oapi\",status=\"200\",code=\"-1\"} 1",
            "dingdir_requests_total{endpoint=\"-\",gateway=\"api\",status=\"404\",code=\"NotFound\"} 1",
            "dingdir_request_duration_seconds_bucket{endpoint=\"GetUser\",le=\"0.00005\"} 1",
            "dingdir_request_duration_seconds_bucket{endpoint=\"GetUser\",le=\"0.0001\"} 2",
            "dingdir_request_duration_seconds_count{endpoint=\"GetUser\"} 2",
            "dingdir_request_duration_seconds_sum{endpoint=\"GetUser\"} 0.0001",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
        }
        assert_eq!(m.gateway_requests(&routes), 4);
        m.answered(Some(0), Gateway::Admin, 200, None, 10);
        let admin = [("Health", Gateway::Admin), ("GetToken", Gateway::Oapi)];
        assert_eq!(m.gateway_requests(&admin), 2, "the admin API's answers are not counted");
    }
}

//! Stream mode on the wire: `POST /v1.0/gateway/connections/open` hands out single-use tickets,
//! `GET /connect?ticket=…` upgrades to a WebSocket, and each app's change events go out over its
//! connections, one at a time and in log order, until one connection acknowledges each with
//! success (docs/wire/stream.md).
//!
//! Where an app's delivery stands is in the store ([`dingdir_core::stream::StreamCursor`]), so
//! delivery is at least once across restarts and nodes: the node that holds the app's lease and
//! one of its connections delivers, and an entry is passed only when a connection acknowledged
//! it. The connections themselves live on the node they were opened on ([`Hub`]); the admin API
//! lists them, closes them, makes them zombies and scripts their acknowledgements.

mod deliver;
mod socket;

pub(crate) use deliver::wake_on_commits;
pub(crate) use socket::serve_socket;

use dingdir_core::clock::Millis;
use dingdir_proto::admin::{AckFault, StreamConnectionView};
use dingdir_proto::ids::AppKey;
use dingdir_proto::stream::{Ack, Subscription};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, oneshot};

/// How this node serves Stream mode.
#[derive(Clone, Debug)]
pub struct StreamSettings {
    /// How long a ticket from `connections/open` may wait for its WebSocket (90 s on DingTalk).
    pub ticket_ttl: Duration,
    /// How long an event waits for its acknowledgement before it is sent again.
    pub ack_timeout: Duration,
    /// How long after a `LATER` (or a failed handler) the event is sent again.
    pub later_delay: Duration,
    /// How often the server sends a SYSTEM `ping`; zero for never.
    pub ping_interval: Duration,
    /// How long a connection told `disconnect` has to close itself before the server closes it.
    pub disconnect_grace: Duration,
    /// The most connections one app may hold on this node at once (50 on DingTalk).
    pub max_per_app: usize,
    /// The WebSocket URL handed out, without the path (`ws://host:port`); `None` derives it
    /// from the request's `Host`.
    pub endpoint: Option<String>,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            ticket_ttl: Duration::from_secs(90),
            ack_timeout: Duration::from_secs(60),
            later_delay: Duration::from_secs(10),
            ping_interval: Duration::from_secs(30),
            disconnect_grace: Duration::from_secs(5),
            max_per_app: 50,
            endpoint: None,
        }
    }
}

/// Tickets not yet redeemed that a node keeps at once: what an app that opens without
/// connecting can make it hold.
pub(crate) const MAX_TICKETS: usize = 10_000;

/// Of those, the most one app may hold, so one app's credentials cannot starve the others.
pub(crate) const MAX_TICKETS_PER_APP: usize = 100;

/// What a ticket was issued for.
struct Ticket {
    app: AppKey,
    subscriptions: Vec<Subscription>,
    events: bool,
    ua: String,
    local_ip: String,
    expires: Instant,
}

/// What the socket task is told to do.
#[derive(Debug)]
pub(crate) enum Out {
    /// Send this text frame.
    Frame(String),
    /// Close: with a SYSTEM `disconnect` carrying this reason first, or with none.
    Close(Option<String>),
    /// Drop the TCP connection with no close frame, as a network failure does.
    Drop,
    /// Become a zombie ([`Conn::zombie`] is already set): for this long, then close (or drop).
    Zombie {
        /// How long; `None` for as long as the client keeps it open.
        period: Option<Duration>,
        /// Drop at the end instead of closing.
        drop: bool,
    },
}

/// One open WebSocket on this node.
pub(crate) struct Conn {
    pub(crate) id: String,
    pub(crate) app: AppKey,
    pub(crate) events: bool,
    subscriptions: Vec<Subscription>,
    ua: String,
    local_ip: String,
    peer: String,
    opened_at: Millis,
    pub(crate) tx: mpsc::UnboundedSender<Out>,
    /// Frames to a zombie are dropped and nothing is read from it (so not even WebSocket pings
    /// are answered); it stays open.
    pub(crate) zombie: AtomicBool,
    /// Told to close (with or without a notice) or to drop: nothing more is pushed to it.
    pub(crate) closing: AtomicBool,
    /// Pushes waiting for their ack, by `messageId`; `None` once the connection is gone, so a
    /// push made as it goes sees it closed at once.
    pending: Mutex<Option<HashMap<String, oneshot::Sender<Ack>>>>,
    pub(crate) sent: AtomicU64,
    pub(crate) acked: AtomicU64,
    pub(crate) pings_answered: AtomicU64,
}

impl Conn {
    /// Subscribed to events and not told to close.
    fn takes_events(&self) -> bool {
        self.events && !self.closing.load(Ordering::Relaxed)
    }

    /// Orders the socket task to close or drop, after which nothing more is pushed to it.
    pub(crate) fn order(&self, out: Out) {
        if matches!(out, Out::Close(_) | Out::Drop) {
            self.closing.store(true, Ordering::Relaxed);
        }
        let _ = self.tx.send(out);
    }

    pub(crate) fn view(&self) -> StreamConnectionView {
        StreamConnectionView {
            id: self.id.clone(),
            app_key: self.app.0.clone(),
            subscriptions: self.subscriptions.clone(),
            ua: self.ua.clone(),
            local_ip: self.local_ip.clone(),
            peer: self.peer.clone(),
            opened_at: self.opened_at,
            zombie: self.zombie.load(Ordering::Relaxed),
            sent: self.sent.load(Ordering::Relaxed),
            acked: self.acked.load(Ordering::Relaxed),
            pings_answered: self.pings_answered.load(Ordering::Relaxed),
        }
    }

    /// Waits for the ack of push `message_id`; `None` when the connection closed first.
    pub(crate) fn expect(&self, message_id: &str) -> oneshot::Receiver<Ack> {
        let (tx, rx) = oneshot::channel();
        if let Some(pending) = lock(&self.pending).as_mut() {
            pending.insert(message_id.to_owned(), tx);
        }
        rx
    }

    /// Forgets a push nobody waits for any longer.
    pub(crate) fn forget(&self, message_id: &str) {
        if let Some(pending) = lock(&self.pending).as_mut() {
            pending.remove(message_id);
        }
    }

    /// Hands an ack to the push waiting for it; `false` if none is.
    fn answer(&self, ack: Ack) -> bool {
        let id = ack
            .headers
            .get(dingdir_proto::stream::header::MESSAGE_ID)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        let Some(waiting) = id.and_then(|id| lock(&self.pending).as_mut().and_then(|p| p.remove(&id))) else {
            return false;
        };
        self.acked.fetch_add(1, Ordering::Relaxed);
        let _ = waiting.send(ack);
        true
    }
}

/// One app's delivery on this node: whether its deliverer runs, what wakes it, the scripted
/// ack faults, and which connection is next.
#[derive(Default)]
struct Line {
    running: bool,
    wake: Arc<Notify>,
    ack_fault: Option<AckFault>,
    next: usize,
}

#[derive(Default)]
struct Inner {
    tickets: HashMap<String, Ticket>,
    conns: BTreeMap<String, Arc<Conn>>,
    lines: HashMap<AppKey, Line>,
}

/// This node's tickets, connections and per-app delivery lines.
#[derive(Default)]
pub(crate) struct Hub {
    inner: Mutex<Inner>,
    ids: AtomicU64,
    /// How many resets this node has seen: a deliverer started before one stops, since the
    /// cursor it holds in memory is gone from the store.
    resets: AtomicU64,
}

/// Why a ticket or connection is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Unknown, used or expired.
    BadTicket,
    /// The app holds `max_per_app` connections already.
    TooMany(usize),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A fresh id of 32 hex digits for a frame or a connection: random, or (should the system's
/// randomness fail) unique in this process. Tickets take [`dingdir_core::secret::random_hex`]
/// and fail instead.
pub(crate) fn random_id() -> String {
    static FALLBACK: AtomicU64 = AtomicU64::new(1);
    dingdir_core::secret::random_hex(16)
        .unwrap_or_else(|_| format!("{:032x}", FALLBACK.fetch_add(1, Ordering::Relaxed)))
}

impl Hub {
    /// Issues a ticket for `app`'s next connection; `None` when [`MAX_TICKETS`] (or
    /// [`MAX_TICKETS_PER_APP`] of the app's) wait already.
    pub(crate) fn issue(
        &self,
        app: AppKey,
        subscriptions: Vec<Subscription>,
        events: bool,
        ua: String,
        local_ip: String,
        ttl: Duration,
    ) -> Option<String> {
        let ticket = dingdir_core::secret::random_hex(16).ok()?;
        let now = Instant::now();
        let mut inner = lock(&self.inner);
        inner.tickets.retain(|_, t| t.expires > now);
        let of_app = inner.tickets.values().filter(|t| t.app == app).count();
        if inner.tickets.len() >= MAX_TICKETS || of_app >= MAX_TICKETS_PER_APP {
            return None;
        }
        inner.tickets.insert(
            ticket.clone(),
            Ticket {
                app,
                subscriptions,
                events,
                ua,
                local_ip,
                expires: now + ttl,
            },
        );
        Some(ticket)
    }

    /// Redeems a ticket into a registered connection and the receiver its socket task reads.
    pub(crate) fn redeem(
        &self,
        ticket: &str,
        peer: String,
        now: Millis,
        max_per_app: usize,
    ) -> Result<(Arc<Conn>, mpsc::UnboundedReceiver<Out>), Refused> {
        let mut inner = lock(&self.inner);
        let t = inner.tickets.remove(ticket).ok_or(Refused::BadTicket)?;
        if t.expires <= Instant::now() {
            return Err(Refused::BadTicket);
        }
        let held = inner.conns.values().filter(|c| c.app == t.app).count();
        if held >= max_per_app {
            return Err(Refused::TooMany(max_per_app));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            id: format!("{}-{n}", &random_id()[..24]),
            app: t.app,
            events: t.events,
            subscriptions: t.subscriptions,
            ua: t.ua,
            local_ip: t.local_ip,
            peer,
            opened_at: now,
            tx,
            zombie: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            pending: Mutex::new(Some(HashMap::new())),
            sent: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            pings_answered: AtomicU64::new(0),
        });
        inner.conns.insert(conn.id.clone(), Arc::clone(&conn));
        Ok((conn, rx))
    }

    /// Forgets a closed connection: its pending pushes see it closed.
    pub(crate) fn remove(&self, id: &str) {
        let gone = lock(&self.inner).conns.remove(id);
        if let Some(conn) = gone {
            lock(&conn.pending).take();
            self.wake(&conn.app);
        }
    }

    /// The app's line is to run: `Some(wake)` if the caller must start its deliverer.
    pub(crate) fn claim_line(&self, app: &AppKey) -> Option<Arc<Notify>> {
        let mut inner = lock(&self.inner);
        let line = inner.lines.entry(app.clone()).or_default();
        if line.running {
            line.wake.notify_one();
            return None;
        }
        line.running = true;
        Some(Arc::clone(&line.wake))
    }

    /// Ends the app's deliverer unless a connection for events is open again; `true` if it
    /// must go on.
    pub(crate) fn release_line(&self, app: &AppKey) -> bool {
        let mut inner = lock(&self.inner);
        let wanted = inner.conns.values().any(|c| &c.app == app && c.takes_events());
        // (Not `has_events`: the lock is held.)
        if let Some(line) = inner.lines.get_mut(app) {
            line.running = wanted;
        }
        wanted
    }

    /// Wakes the app's deliverer, if it runs.
    pub(crate) fn wake(&self, app: &AppKey) {
        if let Some(line) = lock(&self.inner).lines.get(app) {
            line.wake.notify_one();
        }
    }

    /// Wakes every deliverer.
    pub(crate) fn wake_all(&self) {
        for line in lock(&self.inner).lines.values() {
            line.wake.notify_one();
        }
    }

    /// Whether the app has a connection for events here that is not closing.
    pub(crate) fn has_events(&self, app: &AppKey) -> bool {
        lock(&self.inner)
            .conns
            .values()
            .any(|c| &c.app == app && c.takes_events())
    }

    /// The app's next connection for events, round robin; `None` when it has none here.
    pub(crate) fn next_for_events(&self, app: &AppKey) -> Option<Arc<Conn>> {
        self.next(app, Conn::takes_events)
    }

    /// The app's next connection that `fits`, round robin over those that do.
    fn next(&self, app: &AppKey, fits: impl Fn(&Conn) -> bool) -> Option<Arc<Conn>> {
        let mut inner = lock(&self.inner);
        let open: Vec<Arc<Conn>> = inner
            .conns
            .values()
            .filter(|c| &c.app == app && fits(c))
            .cloned()
            .collect();
        let line = inner.lines.entry(app.clone()).or_default();
        let pick = open.get(line.next % open.len().max(1)).cloned();
        line.next = line.next.wrapping_add(1);
        pick
    }

    /// Delivers an ack read from `conn`, through the app's scripted ack fault if one is set.
    pub(crate) fn acked(&self, conn: &Arc<Conn>, ack: Ack) {
        let fault = {
            let mut inner = lock(&self.inner);
            let line = inner.lines.entry(conn.app.clone()).or_default();
            let fault = line.ack_fault.clone();
            if let Some(f) = line.ack_fault.as_mut() {
                if let Some(n) = f.count.as_mut() {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        line.ack_fault = None;
                    }
                }
            }
            fault
        };
        match fault {
            None => {
                conn.answer(ack);
            }
            Some(f) if f.drop => {
                tracing::info!(app = %conn.app.0, connection = %conn.id, "dropping an ack, as scripted");
            }
            Some(f) => {
                let conn = Arc::clone(conn);
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
                    conn.answer(ack);
                });
            }
        }
    }

    /// Sets or clears an app's ack fault.
    pub(crate) fn set_ack_fault(&self, app: &AppKey, fault: Option<AckFault>) {
        lock(&self.inner).lines.entry(app.clone()).or_default().ack_fault = fault;
    }

    /// The app's ack fault.
    pub(crate) fn ack_fault(&self, app: &AppKey) -> Option<AckFault> {
        lock(&self.inner).lines.get(app).and_then(|l| l.ack_fault.clone())
    }

    /// The open connections, an app's or all, by id.
    pub(crate) fn connections(&self, app: Option<&AppKey>) -> Vec<StreamConnectionView> {
        lock(&self.inner)
            .conns
            .values()
            .filter(|c| app.is_none_or(|a| &c.app == a))
            .map(|c| c.view())
            .collect()
    }

    /// Sends a CALLBACK frame on `topic` with `data` to one of the app's connections subscribed
    /// to it (round robin): the connection, the push's `messageId` and the receiver of its ack,
    /// or `None` when no
    /// connection here subscribed.
    pub(crate) fn push_callback(
        &self,
        app: &AppKey,
        topic: &str,
        data: &serde_json::Value,
        now: Millis,
    ) -> Option<(Arc<Conn>, String, oneshot::Receiver<Ack>)> {
        let conn = self.next(app, |c| {
            !c.closing.load(Ordering::Relaxed)
                && c.subscriptions
                    .iter()
                    .any(|s| s.kind == dingdir_proto::stream::kind::CALLBACK && s.topic == topic)
        })?;
        let message_id = random_id();
        let frame = dingdir_core::stream::callback_frame(topic, app, &message_id, &conn.id, data, now);
        let answer = conn.expect(&message_id);
        conn.sent.fetch_add(1, Ordering::Relaxed);
        let _ = conn
            .tx
            .send(Out::Frame(serde_json::to_string(&frame).unwrap_or_default()));
        Some((conn, message_id, answer))
    }

    /// Connections open, and frames sent and acks read on them, for the metrics.
    pub(crate) fn totals(&self) -> (usize, u64, u64) {
        let inner = lock(&self.inner);
        let (sent, acked) = inner.conns.values().fold((0, 0), |(s, a), c| {
            (s + c.sent.load(Ordering::Relaxed), a + c.acked.load(Ordering::Relaxed))
        });
        (inner.conns.len(), sent, acked)
    }

    /// One connection.
    pub(crate) fn connection(&self, id: &str) -> Option<Arc<Conn>> {
        lock(&self.inner).conns.get(id).cloned()
    }

    /// Tells connections (an app's, or all) to close, or to drop; how many were told.
    pub(crate) fn close(&self, app: Option<&AppKey>, how: impl Fn() -> Out) -> usize {
        let conns: Vec<Arc<Conn>> = lock(&self.inner)
            .conns
            .values()
            .filter(|c| app.is_none_or(|a| &c.app == a))
            .cloned()
            .collect();
        for c in &conns {
            c.order(how());
        }
        conns.len()
    }

    /// How many resets this node has seen.
    pub(crate) fn resets(&self) -> u64 {
        self.resets.load(Ordering::SeqCst)
    }

    /// Forgets every ticket and ack fault and closes every connection with a `disconnect`
    /// notice (`reset`): the store's cursors are gone, and the SDKs reconnect to new ones.
    pub(crate) fn reset(&self) {
        self.resets.fetch_add(1, Ordering::SeqCst);
        {
            let mut inner = lock(&self.inner);
            inner.tickets.clear();
            for line in inner.lines.values_mut() {
                line.ack_fault = None;
            }
        }
        self.close(None, || Out::Close(Some("dingdir reset".to_owned())));
    }
}

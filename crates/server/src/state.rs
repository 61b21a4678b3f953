//! Shared state: cheap to clone, read with `State<AppState>`.

use dingdir_core::{MovableClock, Service};
use std::sync::Arc;
use std::time::Duration;

/// How the server was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `dingdir dev`: in memory, demo seed; `reset` is allowed.
    Dev,
    /// `dingdir serve`: persistent.
    Serve,
}

/// Server settings fixed at start.
#[derive(Clone)]
pub struct Settings {
    /// Dev or serve.
    pub mode: Mode,
    /// The bearer token of the admin API.
    pub admin_token: String,
    /// A bearer token that grants the Prometheus metrics only, for a scraper; `None` for none.
    pub metrics_token: Option<String>,
    /// Largest request body the DingTalk gateways read, in bytes.
    pub body_limit: usize,
    /// Largest seed the admin API reads, in bytes.
    pub seed_body_limit: usize,
    /// Gateway requests allowed in flight at once; more are answered "system busy".
    pub max_in_flight: usize,
    /// How long one store call, or reading a gateway request's body, may take before the request
    /// is answered "system busy".
    pub store_timeout: Duration,
    /// The seed re-applied by `reset` (`dev`), with its file name.
    pub reset_seed: Option<(String, String)>,
    /// Whether the admin API may move the clock (`POST /_dingdir/clock`), for tests.
    pub test_clock: bool,
    /// The request journal's bounds, or `None` for no journal.
    pub journal: Option<crate::journal::JournalLimits>,
    /// How this node delivers HTTP event callbacks (its node name and lease serve Stream mode too).
    pub callbacks: crate::delivery::CallbackSettings,
    /// How this node serves Stream mode.
    pub stream: crate::stream::StreamSettings,
    /// The most messages the inbox keeps (the store drops the oldest past it).
    pub inbox_max: u64,
    /// The most uploaded files the store keeps (the oldest go first).
    pub media_max: u64,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("mode", &self.mode)
            .field("admin_token", &"<redacted>")
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "<redacted>"))
            .field("body_limit", &self.body_limit)
            .field("seed_body_limit", &self.seed_body_limit)
            .field("max_in_flight", &self.max_in_flight)
            .field("store_timeout", &self.store_timeout)
            .field("test_clock", &self.test_clock)
            .field("journal", &self.journal)
            .field("callbacks", &self.callbacks)
            .field("stream", &self.stream)
            .field("inbox_max", &self.inbox_max)
            .field("media_max", &self.media_max)
            .finish_non_exhaustive()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            mode: Mode::Serve,
            admin_token: String::new(),
            metrics_token: None,
            body_limit: 64 * 1024,
            seed_body_limit: 16 * 1024 * 1024,
            max_in_flight: 512,
            store_timeout: Duration::from_secs(5),
            reset_seed: None,
            test_clock: false,
            journal: None,
            callbacks: crate::delivery::CallbackSettings::default(),
            stream: crate::stream::StreamSettings::default(),
            inbox_max: 100_000,
            media_max: 1_000,
        }
    }
}

/// What every handler can reach: one `Arc`, so a request clones one counter, not five.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The fields of [`AppState`].
pub struct Shared {
    /// The domain.
    pub service: Service,
    /// The clock the admin API moves when `settings.test_clock` is on; it must be the service's clock.
    pub movable_clock: Option<Arc<MovableClock>>,
    /// Fixed settings.
    pub settings: Settings,
    pub(crate) in_flight: crate::in_flight::InFlight,
    pub(crate) metrics: crate::metrics::Metrics,
    pub(crate) faults: crate::faults::Faults,
    pub(crate) journal: Option<Arc<crate::journal::Journal>>,
    pub(crate) delivery: crate::delivery::Delivery,
    pub(crate) stream: crate::stream::Hub,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Builds the state.
    pub fn new(service: Service, settings: Settings, movable_clock: Option<Arc<MovableClock>>) -> Self {
        Self(Arc::new(Shared {
            service,
            movable_clock,
            in_flight: crate::in_flight::InFlight::new(settings.max_in_flight),
            journal: settings
                .journal
                .map(|limits| Arc::new(crate::journal::Journal::new(limits))),
            settings,
            metrics: crate::metrics::Metrics::new(),
            faults: crate::faults::Faults::default(),
            delivery: crate::delivery::Delivery::new(),
            stream: crate::stream::Hub::default(),
        }))
    }
}

//! Time as a port, so that token expiry is tested by moving a clock instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The source of "now" for every rule that involves time.
pub trait Clock: Send + Sync + 'static {
    /// The current time in milliseconds since the Unix epoch.
    fn now_ms(&self) -> Millis;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        #[expect(clippy::disallowed_methods, reason = "the one place that reads the OS clock")]
        let now = std::time::SystemTime::now();
        now.duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// How far a [`MovableClock`] may be moved ahead in all: a hundred years.
pub const MAX_OFFSET_MS: i64 = 100 * 366 * 24 * 3600 * 1000;

/// A clock advance past [`MAX_OFFSET_MS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the clock may be moved at most 100 years ahead in all")]
pub struct ClockTooFar;

/// The system clock plus an offset that can only move forward; the admin API moves it in tests.
#[derive(Debug, Default)]
pub struct MovableClock {
    offset_ms: AtomicI64,
}

impl MovableClock {
    /// A clock that starts at the system time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `ms` milliseconds (negative values are ignored). Refused,
    /// with nothing moved, when the clock would end up more than [`MAX_OFFSET_MS`] ahead: time
    /// arithmetic everywhere else can then never overflow.
    pub fn advance_ms(&self, ms: i64) -> Result<(), ClockTooFar> {
        if ms <= 0 {
            return Ok(());
        }
        self.offset_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |offset| {
                offset.checked_add(ms).filter(|&o| o <= MAX_OFFSET_MS)
            })
            .map(|_| ())
            .map_err(|_| ClockTooFar)
    }

    /// How far the clock has been moved, in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst)
    }
}

impl Clock for MovableClock {
    fn now_ms(&self) -> Millis {
        SystemClock.now_ms().saturating_add(self.offset_ms())
    }
}

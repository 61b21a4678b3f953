//! The in-flight limit: a counter, not a semaphore, since nothing ever waits for a slot (an
//! excess request is answered "system busy" at once) and a lock-free counter costs less per
//! request than a semaphore's release.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Gateway requests being served, up to a limit.
#[derive(Debug)]
pub(crate) struct InFlight {
    limit: usize,
    current: AtomicUsize,
}

impl InFlight {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            current: AtomicUsize::new(0),
        }
    }

    /// Takes a slot, or answers `false` when `limit` requests are already in flight. A slot
    /// taken must be given back with [`InFlight::leave`].
    pub(crate) fn try_enter(&self) -> bool {
        if self.current.fetch_add(1, Ordering::AcqRel) < self.limit {
            true
        } else {
            self.current.fetch_sub(1, Ordering::AcqRel);
            false
        }
    }

    /// Gives a slot back.
    pub(crate) fn leave(&self) {
        self.current.fetch_sub(1, Ordering::AcqRel);
    }

    /// Requests in flight right now.
    pub(crate) fn current(&self) -> usize {
        self.current.load(Ordering::Relaxed).min(self.limit)
    }

    /// Slots free right now (tests wait on it).
    #[cfg(test)]
    pub(crate) fn available(&self) -> usize {
        self.limit.saturating_sub(self.current.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_given_back() {
        let f = InFlight::new(2);
        assert!(f.try_enter() && f.try_enter());
        assert!(!f.try_enter());
        assert_eq!(f.available(), 0);
        f.leave();
        assert_eq!(f.available(), 1);
        assert!(f.try_enter());
    }
}

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

/// A slot, given back when dropped.
pub(crate) struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl InFlight {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            current: AtomicUsize::new(0),
        }
    }

    /// A slot, or `None` when `limit` requests are already in flight.
    pub(crate) fn try_enter(&self) -> Option<Slot<'_>> {
        if self.current.fetch_add(1, Ordering::AcqRel) < self.limit {
            Some(Slot(&self.current))
        } else {
            self.current.fetch_sub(1, Ordering::AcqRel);
            None
        }
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
        let a = f.try_enter();
        let b = f.try_enter();
        assert!(a.is_some() && b.is_some());
        assert!(f.try_enter().is_none());
        assert_eq!(f.available(), 0);
        drop(a);
        assert_eq!(f.available(), 1);
        assert!(f.try_enter().is_some());
    }
}

//! The sign-in throttle: how repeated wrong passwords for one account are slowed down.

use crate::clock::Millis;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Failures before an account is slowed down, and the longest wait.
const FREE_ATTEMPTS: u32 = 5;
const MAX_WAIT_MS: Millis = 5 * 60 * 1000;
/// Accounts the throttle tracks at once. An entry is forgotten once its last failure is older
/// than the longest wait; when full, entries without a wait go first; a throttle full of slowed
/// accounts refuses attempts on accounts it does not track yet, rather than forget one that is
/// under attack.
const MAX_ENTRIES: usize = 10_000;

/// Counts recent wrong passwords per account (a well-formed mobile), in memory on each node.
///
/// An attempt is counted when it starts and forgiven when it succeeds, so
/// concurrent guesses cannot slip past the count. No request can poison the lock: nothing under
/// it can panic, and a poisoned lock is taken over rather than treated as "no throttle".
#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Millis)>>,
}

/// How long an account with `n` failures, the last at `last`, must still wait at `now`.
fn wait_ms(n: u32, last: Millis, now: Millis) -> Millis {
    if n < FREE_ATTEMPTS {
        return 0;
    }
    let wait = (1000_i64 << (n - FREE_ATTEMPTS).min(16)).min(MAX_WAIT_MS);
    last.saturating_add(wait).saturating_sub(now).max(0)
}

impl Throttle {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Millis)>> {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts an attempt on `key`: `false` when the account must wait; otherwise the attempt is
    /// counted as a failure until [`succeed`](Self::succeed) or [`undo`](Self::undo).
    pub(crate) fn begin(&self, key: &str, now: Millis) -> bool {
        let mut map = self.map();
        if let Some(&(n, last)) = map.get(key) {
            if wait_ms(n, last, now) > 0 {
                return false;
            }
        } else if map.len() >= MAX_ENTRIES {
            map.retain(|_, &mut (_, last)| now.saturating_sub(last) < MAX_WAIT_MS);
            if map.len() >= MAX_ENTRIES {
                // Accounts with a few failures and no wait yet go before any that is slowed
                // down: filling the throttle with one guess per mobile locks nobody out.
                map.retain(|_, &mut (n, _)| n >= FREE_ATTEMPTS);
            }
            if map.len() >= MAX_ENTRIES {
                return false;
            }
        }
        let entry = map.entry(key.to_owned()).or_insert((0, now));
        *entry = (entry.0.saturating_add(1), now);
        true
    }

    /// The attempt succeeded: the account starts afresh.
    pub(crate) fn succeed(&self, key: &str) {
        self.map().remove(key);
    }

    /// The attempt could not be checked (the store or the checker failed): it does not count.
    pub(crate) fn undo(&self, key: &str) {
        let mut map = self.map();
        if let Some(entry) = map.get_mut(key) {
            entry.0 = entry.0.saturating_sub(1);
            if entry.0 == 0 {
                map.remove(key);
            }
        }
    }

    /// How many accounts are tracked.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether no account is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_slows_down_after_five_failures_and_doubles() {
        let t = Throttle::default();
        for i in 0..5 {
            assert!(t.begin("k", 1000 + i), "attempt {i} is free");
        }
        assert!(!t.begin("k", 1004), "the sixth waits a second");
        assert!(!t.begin("k", 2003));
        assert!(t.begin("k", 2004));
        assert!(!t.begin("k", 2004), "then two seconds");
        assert!(t.begin("other", 2004));
        t.succeed("k");
        assert!(t.begin("k", 2004), "a success starts afresh");
    }

    #[test]
    fn an_attempt_that_could_not_be_checked_does_not_count() {
        let t = Throttle::default();
        for _ in 0..10 {
            assert!(t.begin("k", 0));
            t.undo("k");
        }
        assert!(t.is_empty());
    }

    #[test]
    fn throttle_time_saturates_instead_of_wrapping() {
        let t = Throttle::default();
        for _ in 0..5 {
            assert!(t.begin("k", i64::MAX - 1));
        }
        assert!(!t.begin("k", i64::MAX - 1), "the wait saturates at the end of time");
        assert!(t.begin("k", i64::MAX), "and has passed there");
        assert!(t.begin("j", i64::MIN));
        assert_eq!(wait_ms(30, i64::MAX, i64::MIN), i64::MAX);
    }

    #[test]
    fn throttle_is_bounded_and_forgets_stale_entries() {
        let t = Throttle::default();
        for i in 0..MAX_ENTRIES {
            assert!(t.begin(&format!("m{i}"), 0));
        }
        assert!(t.begin("new", 1), "entries with no wait yet make room");
        assert!(t.len() <= 1, "{} entries left", t.len());
        let t = Throttle::default();
        for i in 0..MAX_ENTRIES {
            for _ in 0..FREE_ATTEMPTS {
                assert!(t.begin(&format!("m{i}"), 0));
            }
        }
        assert!(!t.begin("new", 1), "full of slowed accounts: a new account is refused");
        assert!(t.begin("new", MAX_WAIT_MS), "stale entries are forgotten");
    }
}

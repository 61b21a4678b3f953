//! Small time-bounded caches in front of the store, so a hot request reads the store at most once.
//!
//! Entries live `ttl` milliseconds by the service's clock, then are read again: that is how long
//! a write made through another node can take to be seen here (a write through this node clears
//! its caches at once). A cache that grows past its capacity is emptied rather than evicted entry
//! by entry: simple, and cheap on the hot path.

use crate::clock::Millis;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;

/// A map whose entries expire.
#[derive(Debug)]
pub(crate) struct Cached<K, V> {
    ttl_ms: Millis,
    capacity: usize,
    map: RwLock<HashMap<K, (V, Millis)>>,
}

impl<K: Eq + Hash, V: Clone> Cached<K, V> {
    pub(crate) fn new(ttl_ms: Millis, capacity: usize) -> Self {
        Self {
            ttl_ms,
            capacity,
            map: RwLock::new(HashMap::new()),
        }
    }

    /// The value, if cached less than `ttl` ago.
    pub(crate) fn get<Q>(&self, key: &Q, now: Millis) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if self.ttl_ms <= 0 {
            return None;
        }
        let map = self.map.read().ok()?;
        map.get(key)
            .filter(|(_, at)| now >= *at && now.saturating_sub(*at) < self.ttl_ms)
            .map(|(v, _)| v.clone())
    }

    pub(crate) fn put(&self, key: K, value: V, now: Millis) {
        if self.ttl_ms <= 0 {
            return;
        }
        if let Ok(mut map) = self.map.write() {
            if map.len() >= self.capacity {
                map.clear();
            }
            map.insert(key, (value, now));
        }
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut map) = self.map.write() {
            map.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_capacity_empties() {
        let c = Cached::new(1000, 2);
        c.put("a", 1, 10);
        assert_eq!(c.get(&"a", 1009), Some(1));
        assert_eq!(c.get(&"a", 1010), None, "expired after ttl");
        c.put("b", 2, 10);
        c.put("c", 3, 10);
        assert_eq!(c.get(&"a", 20), None, "emptied at capacity");
        assert_eq!(c.get(&"c", 20), Some(3));
        c.put("d", 4, i64::MIN + 1);
        assert_eq!(c.get(&"d", i64::MAX), None, "time far apart saturates, never wraps");
        c.put("e", 5, i64::MAX);
        assert_eq!(c.get(&"e", i64::MAX), Some(5));
        let off = Cached::new(0, 2);
        off.put("a", 1, 10);
        assert_eq!(off.get(&"a", 10), None, "ttl 0 disables the cache");
    }
}

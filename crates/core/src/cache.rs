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
    name: &'static str,
    hits: crate::stats::Striped,
    misses: crate::stats::Striped,
    ttl_ms: Millis,
    capacity: usize,
    map: RwLock<HashMap<K, (V, Millis)>>,
}

impl<K: Eq + Hash, V: Clone> Cached<K, V> {
    pub(crate) fn new(name: &'static str, ttl_ms: Millis, capacity: usize) -> Self {
        Self {
            name,
            hits: crate::stats::Striped::default(),
            misses: crate::stats::Striped::default(),
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
        let found = self.map.read().ok().and_then(|map| {
            map.get(key)
                .filter(|(_, at)| now >= *at && now.saturating_sub(*at) < self.ttl_ms)
                .map(|(v, _)| v.clone())
        });
        match found {
            Some(_) => self.hits.add(1),
            None => self.misses.add(1),
        }
        found
    }

    /// Hits, misses and entries since start (a cache turned off counts nothing).
    pub(crate) fn stats(&self) -> crate::stats::CacheStats {
        crate::stats::CacheStats {
            name: self.name,
            hits: self.hits.get(),
            misses: self.misses.get(),
            entries: self.map.read().map_or(0, |m| m.len() as u64),
        }
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
        let c = Cached::new("test", 1000, 2);
        c.put("a", 1, 10);
        assert_eq!(c.get(&"a", 1009), Some(1));
        assert_eq!(c.get(&"a", 1010), None, "expired after ttl");
        c.put("b", 2, 10);
        c.put("c", 3, 10);
        assert_eq!(c.get(&"a", 20), None, "emptied at capacity");
        assert_eq!(c.get(&"c", 20), Some(3));
        let stats = c.stats();
        assert_eq!((stats.hits, stats.misses, stats.entries), (2, 2, 1), "{stats:?}");
        c.put("d", 4, i64::MIN + 1);
        assert_eq!(c.get(&"d", i64::MAX), None, "time far apart saturates, never wraps");
        c.put("e", 5, i64::MAX);
        assert_eq!(c.get(&"e", i64::MAX), Some(5));
        let off = Cached::new("off", 0, 2);
        off.put("a", 1, 10);
        assert_eq!(off.get(&"a", 10), None, "ttl 0 disables the cache");
    }
}

//! Small time-bounded caches in front of the store, so a hot request reads the store at most once.
//!
//! Entries live `ttl` milliseconds by the service's clock, then are read again: that is how long
//! a write made through another node can take to be seen here (a write through this node clears
//! its caches at once). A cache that grows past its capacity is emptied rather than evicted entry
//! by entry: simple, and cheap on the hot path.
//!
//! Each entry's life is shortened by a spread of up to a quarter of `ttl`: entries filled in
//! the same instant (a warm-up, a burst of new callers) would otherwise expire in the same
//! instant too, and every request that hit them would wait for the store together, each second,
//! which is what a saturated server's p99 showed.

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
    /// Striped locks a caller takes to load a missing entry, so that concurrent misses of one
    /// key wait for one load (see [`Self::loading`]).
    loads: Box<[tokio::sync::Mutex<()>]>,
}

/// Stripes of [`Cached::loading`]: loads of keys in different stripes run at once.
const LOAD_STRIPES: usize = 32;

impl<K: Eq + Hash, V: Clone> Cached<K, V> {
    pub(crate) fn new(name: &'static str, ttl_ms: Millis, capacity: usize) -> Self {
        Self {
            name,
            hits: crate::stats::Striped::default(),
            misses: crate::stats::Striped::default(),
            ttl_ms,
            capacity,
            map: RwLock::new(HashMap::new()),
            loads: (0..LOAD_STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
        }
    }

    /// Held while loading `key` after a miss: a caller that missed takes it, looks again, and
    /// loads only if the entry is still missing. Sixty-four clients on one page otherwise all
    /// read it from the store together each time it expires, and wait for each other there.
    pub(crate) async fn loading<Q>(&self, key: &Q) -> tokio::sync::MutexGuard<'_, ()>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + ?Sized,
    {
        use std::hash::Hasher;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        let stripe = usize::try_from(h.finish() % LOAD_STRIPES as u64).unwrap_or(0);
        self.loads[stripe].lock().await
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
            map.insert(key, (value, now.saturating_sub(self.spread())));
        }
    }

    /// How much sooner the next entry expires: spread evenly over `[0, ttl / 4]` by a counter
    /// through a bit mixer (splitmix64), so no two neighbouring puts get the same.
    fn spread(&self) -> Millis {
        static PUTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let mut z = PUTS
            .fetch_add(0x9E37_79B9_7F4A_7C15, std::sync::atomic::Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let quarter = u64::try_from(self.ttl_ms / 4).unwrap_or(0);
        Millis::try_from(z % (quarter + 1)).unwrap_or(0)
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

    /// Twenty callers missing one key at once load it once; the rest find what it loaded.
    #[tokio::test]
    async fn concurrent_misses_of_one_key_load_it_once() {
        let cache = std::sync::Arc::new(Cached::new("pages", 1000, 100));
        let loads = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let callers: Vec<_> = (0..20)
            .map(|_| {
                let (cache, loads) = (cache.clone(), loads.clone());
                tokio::spawn(async move {
                    if let Some(v) = cache.get("page", 5) {
                        return v;
                    }
                    let _loading = cache.loading("page").await;
                    if let Some(v) = cache.get("page", 5) {
                        return v;
                    }
                    loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    // A store read: other callers run meanwhile.
                    for _ in 0..10 {
                        tokio::task::yield_now().await;
                    }
                    cache.put("page".to_owned(), 7, 5);
                    7
                })
            })
            .collect();
        for c in callers {
            assert_eq!(c.await.unwrap(), 7);
        }
        assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn entries_expire_and_capacity_empties() {
        let c = Cached::new("test", 1000, 2);
        c.put("a", 1, 10);
        assert_eq!(c.get(&"a", 759), Some(1), "kept at least three quarters of ttl");
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
        // The spread: 1,000 entries put at once expire over the last quarter of ttl, not at once.
        let many = Cached::new("many", 1000, 10_000);
        for k in 0..1000 {
            many.put(k, k, 0);
        }
        let alive = |at| (0..1000).filter(|k| many.get(k, at).is_some()).count();
        assert_eq!(alive(749), 1000);
        assert_eq!(alive(1000), 0);
        let half = alive(875);
        assert!(
            (300..=700).contains(&half),
            "{half} of 1000 alive half-way through the spread"
        );
        let off = Cached::new("off", 0, 2);
        off.put("a", 1, 10);
        assert_eq!(off.get(&"a", 10), None, "ttl 0 disables the cache");
    }
}

//! A small per-instance cache with a time-to-live and a size bound, for lookups a warm
//! Lambda repeats (the intake's org lookup and decrypted secrets).
//!
//! Eviction is `quick_cache`'s S3-FIFO: entries that are read again stay, one-off keys
//! leave first — so a flood of random keys cannot push out the hot ones.

use std::hash::Hash;
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;

pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: Cache<K, (Instant, V)>,
}

impl<K, V> std::fmt::Debug for TtlCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TtlCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            entries: Cache::new(capacity.max(1)),
        }
    }

    /// The value, if cached less than `ttl` ago.
    pub fn get(&self, key: &K) -> Option<V> {
        self.get_with_age(key).map(|(v, _)| v)
    }

    /// The value and how long ago it was cached, if less than `ttl` ago.
    pub fn get_with_age(&self, key: &K) -> Option<(V, Duration)> {
        let (at, value) = self.entries.get(key)?;
        let age = at.elapsed();
        (age < self.ttl).then_some((value, age))
    }

    pub fn insert(&self, key: K, value: V) {
        if !self.ttl.is_zero() {
            self.entries.insert(key, (Instant::now(), value));
        }
    }

    pub fn remove(&self, key: &K) {
        self.entries.remove(key);
    }

    pub fn clear(&self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire() {
        let cache = TtlCache::new(Duration::from_millis(50), 2);
        cache.insert("a", 1);
        assert_eq!(cache.get(&"a"), Some(1));
        assert_eq!(cache.get(&"b"), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&"a"), None, "expired");
        let zero = TtlCache::new(Duration::ZERO, 10);
        zero.insert("x", 1);
        assert_eq!(zero.get(&"x"), None, "a zero TTL never serves");
    }

    #[test]
    fn a_flood_of_one_off_keys_keeps_the_hot_entries() {
        let cache = TtlCache::new(Duration::from_secs(60), 100);
        for hot in 0..20u32 {
            cache.insert(hot, hot);
        }
        for round in 0..50u32 {
            for hot in 0..20u32 {
                assert_eq!(cache.get(&hot), Some(hot), "hot entry {hot} evicted in round {round}");
            }
            for junk in 0..200u32 {
                cache.insert(1_000_000 + round * 1_000 + junk, 0);
            }
        }
        assert!(cache.len() <= 110, "bounded: {}", cache.len());
    }
}

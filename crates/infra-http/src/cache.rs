//! A small in-memory cache whose entries expire, for answers that are asked for on every
//! request but change rarely (a plan, who a token belongs to). Only what a caller chose to
//! insert is kept: the adapters insert successful, positive answers and nothing else, so a
//! failure or a refusal is asked again next time.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Entries beyond which an insert first drops the expired ones, so a stream of distinct
/// keys (tokens, plans) cannot grow the map without bound.
const PRUNE_ABOVE: usize = 1024;

pub(crate) struct TtlCache<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// A zero `ttl` caches nothing.
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let mut entries = self.lock();
        match entries.get(key) {
            Some((expires, value)) if *expires > Instant::now() => Some(value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    pub(crate) fn insert(&self, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= PRUNE_ABOVE {
            entries.retain(|_, (expires, _)| *expires > now);
        }
        entries.insert(key, (now + self.ttl, value));
    }

    /// A panic while the lock was held cannot leave an entry half-written (inserts and
    /// removals are single map operations), so a poisoned map is still good to use.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, V)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K, V> fmt::Debug for TtlCache<K, V> {
    /// Values may hold credentials: only the lifetime is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TtlCache").field("ttl", &self.ttl).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_served_until_they_expire() {
        let cache = TtlCache::new(Duration::from_millis(50));
        cache.insert("plan", 1);
        assert_eq!(cache.get(&"plan"), Some(1));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&"plan"), None);
    }

    #[test]
    fn zero_ttl_caches_nothing() {
        let cache = TtlCache::new(Duration::ZERO);
        cache.insert("plan", 1);
        assert_eq!(cache.get(&"plan"), None);
    }

    #[test]
    fn inserting_past_the_bound_drops_expired_entries() {
        let cache = TtlCache::new(Duration::from_millis(20));
        for key in 0..PRUNE_ABOVE {
            cache.insert(key, key);
        }
        std::thread::sleep(Duration::from_millis(30));
        cache.insert(PRUNE_ABOVE, 0);
        assert_eq!(cache.lock().len(), 1);
    }
}

//! The `Send + Sync` cache: an [`LruCache`] behind a mutex.

use super::*;

/// A [`LruCache`] behind a mutex: `Send + Sync`, `&self` methods. The AI pipeline's
/// advice cache is `SyncLruCache<u64, String>`.
pub struct SyncLruCache<K, V, S = RandomState> {
    inner: Mutex<LruCache<K, V, S>>,
}

impl<K, V, S> fmt::Debug for SyncLruCache<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SyncLruCache")
    }
}

impl<K: Hash + Eq, V> SyncLruCache<K, V> {
    pub fn new(options: CacheOptions, clock: SharedClock) -> Result<Self, OptionsError> {
        Ok(Self {
            inner: Mutex::new(LruCache::new(options, clock)?),
        })
    }
}

impl<K: Hash + Eq, V, S: BuildHasher> SyncLruCache<K, V, S> {
    /// See [`LruCache::with_hasher`].
    pub fn with_hasher(
        options: CacheOptions,
        clock: SharedClock,
        hasher: S,
    ) -> Result<Self, OptionsError> {
        Ok(Self {
            inner: Mutex::new(LruCache::with_hasher(options, clock, hasher)?),
        })
    }

    /// Locks the cache for several operations in a row.
    pub fn lock(&self) -> MutexGuard<'_, LruCache<K, V, S>> {
        // A panic while locked cannot leave the structure half-linked (no user code
        // runs inside), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.lock().get(key)
    }

    pub fn get_with<Q, R>(&self, key: &Q, f: impl FnOnce(&V, bool) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock().get_with(key, f)
    }

    pub fn peek<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.lock().peek(key).cloned()
    }

    pub fn contains<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock().contains(key)
    }

    pub fn insert(&self, key: K, value: V) -> SetOutcome<V>
    where
        V: EntrySize,
    {
        self.lock().insert(key, value)
    }

    pub fn set(&self, key: K, value: V, size: u64, ttl_ms: Option<u64>) -> SetOutcome<V> {
        self.lock().set(key, value, size, ttl_ms)
    }

    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock().remove(key)
    }

    pub fn purge_stale(&self) -> usize {
        self.lock().purge_stale()
    }

    pub fn clear(&self) {
        self.lock().clear()
    }

    /// See [`LruCache::purge_steps`].
    pub fn purge_steps(&self, steps: usize) -> usize {
        self.lock().purge_steps(steps)
    }

    /// See [`LruCache::slot_count`].
    pub fn slot_count(&self) -> usize {
        self.lock().slot_count()
    }

    /// See [`LruCache::set_max`].
    pub fn set_max(&self, max: usize) -> usize {
        self.lock().set_max(max)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    pub fn stats(&self) -> CacheStats {
        self.lock().stats()
    }
}

/// The AI pipeline's advice cache: 64-bit error fingerprints to advice JSON text.
///
/// ```
/// use qerrors::core::cache::{AdviceCache, CacheOptions};
/// use qerrors::core::clock::monotonic;
///
/// let cache = AdviceCache::new(
///     CacheOptions { max: 50, ttl_ms: 86_400_000, ..CacheOptions::default() },
///     monotonic(),
/// )
/// .expect("max > 0");
/// cache.insert(0x1234, r#"{"advice":"retry"}"#.to_owned());
/// assert_eq!(cache.get(&0x1234).as_deref(), Some(r#"{"advice":"retry"}"#));
/// assert_eq!(cache.stats().hits, 1);
/// ```
///
/// A limit of 0 ("disabled" in the spec's `QERRORS_CACHE_LIMIT`) is not a valid cache:
/// [`CacheOptions`] without `max` and `max_size` is rejected, so a disabled cache is
/// simply not created.
pub type AdviceCache = SyncLruCache<u64, String>;

//! A generic O(1) LRU cache with TTLs, bounded by entry count and by total size.
//!
//! Layout: entries live in a slab (`Vec` of slots, reused through a free list) and are
//! linked into a recency list by slot index; a `hashbrown::HashTable` of slot indices
//! finds them by key, so each key is stored once. get/set/delete/evict are O(1).
//!
//! Expiry is lazy (an expired entry found by `get` is removed then) plus an incremental
//! sweep: every `set` examines a few slab slots after a cursor and removes the expired
//! ones it finds, so memory held by dead entries is reclaimed without a timer and
//! without ever scanning the whole cache in one call. [`LruCache::purge_stale`] does
//! the full scan on request.
//!
//! The clock is read only when an entry has a TTL, so a cache without TTLs never pays
//! for it. [`SyncLruCache`] is the `Send + Sync` variant used from tokio threads.

use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::{Mutex, MutexGuard};

use hashbrown::HashTable;

use super::clock::SharedClock;

const NIL: u32 = u32::MAX;
/// `expires_at` of an entry without a TTL.
const NEVER: u64 = u64::MAX;
/// Slot indices are `u32`; `NIL` is reserved.
const MAX_SLOTS: usize = (u32::MAX - 1) as usize;

/// Slots examined by the incremental sweep on each `set` by default.
pub const DEFAULT_PURGE_STEP: usize = 4;

/// Configuration of a cache. At least one of `max` and `max_size` must be non-zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheOptions {
    /// Maximum number of entries; 0 = bounded only by `max_size`.
    pub max: usize,
    /// Maximum sum of entry sizes; 0 = no size bound.
    pub max_size: u64,
    /// Default TTL in milliseconds for entries set without one; 0 = no expiry.
    pub ttl_ms: u64,
    /// A successful `get` restarts the entry's TTL.
    pub update_age_on_get: bool,
    /// `get` and `peek` return an expired value (once, for `get`, which removes it).
    pub allow_stale: bool,
    /// Slots examined by the incremental sweep per `set`; 0 turns the sweep off.
    pub purge_step: usize,
}

impl Default for CacheOptions {
    fn default() -> Self {
        Self {
            max: 1000,
            max_size: 0,
            ttl_ms: 0,
            update_age_on_get: false,
            allow_stale: false,
            purge_step: DEFAULT_PURGE_STEP,
        }
    }
}

/// Invalid [`CacheOptions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionsError {
    /// Neither `max` nor `max_size` bounds the cache.
    Unbounded,
}

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionsError::Unbounded => {
                f.write_str("a cache needs a bound: set max or maxSize to a positive number")
            }
        }
    }
}

impl std::error::Error for OptionsError {}

/// Why an entry left the cache (reported when removal tracking is on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalReason {
    /// Pushed out by the count or size bound.
    Evict,
    /// Its TTL ran out.
    Expire,
    /// Replaced by a `set` of the same key.
    Set,
    /// Removed by `delete`, `clear`, or a rejected oversize `set` of its key.
    Delete,
}

/// Counters and current totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// `get` calls that returned a fresh value.
    pub hits: u64,
    /// `get` calls that found nothing, or only an expired entry.
    pub misses: u64,
    /// Entries pushed out by the count or size bound.
    pub evictions: u64,
    /// Entries removed because their TTL ran out (on access, by the sweep, or by purge).
    pub expirations: u64,
    /// `set` calls refused because the entry alone is larger than `max_size`.
    pub rejected: u64,
    /// Entries held now (expired ones not yet removed included).
    pub size: u64,
    /// Sum of the sizes of the entries held now.
    pub bytes: u64,
}

/// Outcome of a `set`.
#[derive(Debug, PartialEq, Eq)]
pub enum SetOutcome<V> {
    /// The value is stored.
    Stored,
    /// The entry is larger than `max_size`; the value is handed back and any previous
    /// value of the key removed (a cache must not keep serving the value it replaced).
    Rejected(V),
}

/// Size of a value, used by [`LruCache::insert`].
pub trait EntrySize {
    fn entry_size(&self) -> u64;
}

impl EntrySize for String {
    fn entry_size(&self) -> u64 {
        self.len() as u64
    }
}

impl EntrySize for Vec<u8> {
    fn entry_size(&self) -> u64 {
        self.len() as u64
    }
}

impl EntrySize for Box<[u8]> {
    fn entry_size(&self) -> u64 {
        self.len() as u64
    }
}

struct Node<K, V> {
    key: K,
    value: V,
    hash: u64,
    size: u64,
    expires_at: u64,
    ttl: u64,
    prev: u32,
    next: u32,
}

enum Slot<K, V> {
    Used(Node<K, V>),
    Free { next_free: u32 },
}

/// The single-threaded cache. See the module documentation.
pub struct LruCache<K, V, S = RandomState> {
    table: HashTable<u32>,
    slots: Vec<Slot<K, V>>,
    free_head: u32,
    /// Most recently used.
    head: u32,
    /// Least recently used: the next victim.
    tail: u32,
    len: usize,
    bytes: u64,
    max_count: usize,
    max_size: u64,
    ttl_ms: u64,
    update_age_on_get: bool,
    allow_stale: bool,
    purge_step: usize,
    /// Entries with a TTL; while 0 the clock is never read.
    ttl_entries: usize,
    sweep_cursor: usize,
    hasher: S,
    clock: SharedClock,
    stats: CacheStats,
    removed: Option<Vec<(K, V, RemovalReason)>>,
}

impl<K, V, S> fmt::Debug for LruCache<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LruCache")
            .field("len", &self.len)
            .field("bytes", &self.bytes)
            .field("max", &self.max_count)
            .field("max_size", &self.max_size)
            .finish()
    }
}

impl<K: Hash + Eq, V> LruCache<K, V> {
    /// A cache with `options`, reading time from `clock`.
    pub fn new(options: CacheOptions, clock: SharedClock) -> Result<Self, OptionsError> {
        Self::with_hasher(options, clock, RandomState::new())
    }
}

impl<K: Hash + Eq, V, S: BuildHasher> LruCache<K, V, S> {
    /// A cache with an explicit hasher (the default, SipHash with a random key, resists
    /// flooding with colliding keys).
    pub fn with_hasher(
        options: CacheOptions,
        clock: SharedClock,
        hasher: S,
    ) -> Result<Self, OptionsError> {
        if options.max == 0 && options.max_size == 0 {
            return Err(OptionsError::Unbounded);
        }
        let max_count = if options.max == 0 {
            MAX_SLOTS
        } else {
            options.max.min(MAX_SLOTS)
        };
        Ok(Self {
            table: HashTable::new(),
            slots: Vec::new(),
            free_head: NIL,
            head: NIL,
            tail: NIL,
            len: 0,
            bytes: 0,
            max_count,
            max_size: options.max_size,
            ttl_ms: options.ttl_ms,
            update_age_on_get: options.update_age_on_get,
            allow_stale: options.allow_stale,
            purge_step: options.purge_step,
            ttl_entries: 0,
            sweep_cursor: 0,
            hasher,
            clock,
            stats: CacheStats::default(),
            removed: None,
        })
    }

    /// Records every removed entry with its reason until [`Self::take_removed`] collects
    /// them (for dispose callbacks). Off by default: then removed values are dropped.
    pub fn track_removals(&mut self, on: bool) {
        self.removed = on.then(Vec::new);
    }

    /// Takes the entries removed since the last call (empty when tracking is off).
    pub fn take_removed(&mut self) -> Vec<(K, V, RemovalReason)> {
        match &mut self.removed {
            Some(v) => std::mem::take(v),
            None => Vec::new(),
        }
    }

    /// True when removals are pending collection.
    pub fn has_removed(&self) -> bool {
        self.removed.as_ref().is_some_and(|v| !v.is_empty())
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sum of the sizes of the entries held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            size: self.len as u64,
            bytes: self.bytes,
            ..self.stats
        }
    }

    fn node(&self, idx: u32) -> &Node<K, V> {
        match &self.slots[idx as usize] {
            Slot::Used(n) => n,
            // Linked and indexed slots are always used; reaching this is a bug.
            Slot::Free { .. } => unreachable!("free slot reached through the index"),
        }
    }

    fn node_mut(&mut self, idx: u32) -> &mut Node<K, V> {
        match &mut self.slots[idx as usize] {
            Slot::Used(n) => n,
            Slot::Free { .. } => unreachable!("free slot reached through the index"),
        }
    }

    fn find<Q>(&self, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let slots = &self.slots;
        self.table
            .find(hash, |&i| match &slots[i as usize] {
                Slot::Used(n) => n.hash == hash && n.key.borrow() == key,
                Slot::Free { .. } => false,
            })
            .copied()
    }

    fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    fn unlink(&mut self, idx: u32) {
        let (prev, next) = {
            let n = self.node(idx);
            (n.prev, n.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.node_mut(prev).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.node_mut(next).prev = prev;
        }
    }

    fn push_front(&mut self, idx: u32) {
        let old = self.head;
        {
            let n = self.node_mut(idx);
            n.prev = NIL;
            n.next = old;
        }
        if old == NIL {
            self.tail = idx;
        } else {
            self.node_mut(old).prev = idx;
        }
        self.head = idx;
    }

    fn touch(&mut self, idx: u32) {
        if self.head != idx {
            self.unlink(idx);
            self.push_front(idx);
        }
    }

    /// Unlinks and frees slot `idx`, returning its node.
    fn take(&mut self, idx: u32) -> Node<K, V> {
        self.unlink(idx);
        let hash = self.node(idx).hash;
        if let Ok(entry) = self.table.find_entry(hash, |&i| i == idx) {
            entry.remove();
        }
        let slot = std::mem::replace(
            &mut self.slots[idx as usize],
            Slot::Free {
                next_free: self.free_head,
            },
        );
        self.free_head = idx;
        let node = match slot {
            Slot::Used(n) => n,
            Slot::Free { .. } => unreachable!("freeing a free slot"),
        };
        self.len -= 1;
        self.bytes -= node.size;
        if node.expires_at != NEVER {
            self.ttl_entries -= 1;
        }
        node
    }

    fn remove_idx(&mut self, idx: u32, reason: RemovalReason) -> V {
        let node = self.take(idx);
        match reason {
            RemovalReason::Evict => self.stats.evictions += 1,
            RemovalReason::Expire => self.stats.expirations += 1,
            RemovalReason::Set | RemovalReason::Delete => {}
        }
        node.value
    }

    fn discard_idx(&mut self, idx: u32, reason: RemovalReason) {
        if self.removed.is_some() {
            let node = self.take(idx);
            match reason {
                RemovalReason::Evict => self.stats.evictions += 1,
                RemovalReason::Expire => self.stats.expirations += 1,
                RemovalReason::Set | RemovalReason::Delete => {}
            }
            if let Some(log) = &mut self.removed {
                log.push((node.key, node.value, reason));
            }
        } else {
            self.remove_idx(idx, reason);
        }
    }

    fn is_expired(&self, n: &Node<K, V>, now: &mut Option<u64>) -> bool {
        n.expires_at != NEVER && *now.get_or_insert_with(|| self.clock.now_ms()) >= n.expires_at
    }

    /// Looks `key` up, moves it to the front, and passes its value to `f` (with `true`
    /// when the value is expired and returned only because `allow_stale` is on; that
    /// entry is removed right after).
    pub fn get_with<Q, R>(&mut self, key: &Q, f: impl FnOnce(&V, bool) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let Some(idx) = self.find(key) else {
            self.stats.misses += 1;
            return None;
        };
        let mut now = None;
        if self.is_expired(self.node(idx), &mut now) {
            self.stats.misses += 1;
            let out = self.allow_stale.then(|| f(&self.node(idx).value, true));
            self.discard_idx(idx, RemovalReason::Expire);
            return out;
        }
        self.stats.hits += 1;
        self.touch(idx);
        if self.update_age_on_get {
            let ttl = self.node(idx).ttl;
            if ttl != 0 {
                let t = now.unwrap_or_else(|| self.now());
                self.node_mut(idx).expires_at = t.saturating_add(ttl);
            }
        }
        Some(f(&self.node(idx).value, false))
    }

    /// [`Self::get_with`] returning a clone of the value.
    pub fn get<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.get_with(key, |v, _| v.clone())
    }

    /// The value without touching recency, stats or expiry (stale values only with
    /// `allow_stale`).
    pub fn peek<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let n = self.node(self.find(key)?);
        (self.allow_stale || !self.is_expired(n, &mut None)).then_some(&n.value)
    }

    /// Whether `key` holds a fresh value. Does not touch recency or stats.
    pub fn contains<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find(key)
            .is_some_and(|idx| !self.is_expired(self.node(idx), &mut None))
    }

    /// Removes `key`, returning its value (expired or not).
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let idx = self.find(key)?;
        Some(self.remove_idx(idx, RemovalReason::Delete))
    }

    /// Removes `key`; with removal tracking on, the value goes to the removal log.
    /// Returns whether the key was present.
    pub fn delete<Q>(&mut self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.find(key) {
            Some(idx) => {
                self.discard_idx(idx, RemovalReason::Delete);
                true
            }
            None => false,
        }
    }

    /// Stores `value` sized by [`EntrySize`] with the default TTL.
    pub fn insert(&mut self, key: K, value: V) -> SetOutcome<V>
    where
        V: EntrySize,
    {
        let size = value.entry_size();
        self.set(key, value, size, None)
    }

    /// Stores `value` under `key` as the most recently used entry. `size` counts against
    /// `max_size`; `ttl_ms` overrides the default TTL (`Some(0)` = no expiry).
    pub fn set(&mut self, key: K, value: V, size: u64, ttl_ms: Option<u64>) -> SetOutcome<V> {
        let ttl = ttl_ms.unwrap_or(self.ttl_ms);
        let mut now = None;
        let existing = self.find(&key);
        if self.max_size != 0 && size > self.max_size {
            if let Some(idx) = existing {
                self.discard_idx(idx, RemovalReason::Delete);
            }
            self.stats.rejected += 1;
            return SetOutcome::Rejected(value);
        }
        let expires_at = if ttl == 0 {
            NEVER
        } else {
            now.get_or_insert_with(|| self.clock.now_ms())
                .saturating_add(ttl)
        };
        let idx = match existing {
            Some(idx) => {
                self.touch(idx);
                let n = self.node_mut(idx);
                let old_size = n.size;
                let had_ttl = n.expires_at != NEVER;
                n.size = size;
                n.ttl = ttl;
                n.expires_at = expires_at;
                let old = std::mem::replace(&mut n.value, value);
                if let Some(log) = &mut self.removed {
                    // The stored key stays; the equal key passed in goes to the log.
                    log.push((key, old, RemovalReason::Set));
                }
                self.bytes = self.bytes - old_size + size;
                match (had_ttl, expires_at != NEVER) {
                    (false, true) => self.ttl_entries += 1,
                    (true, false) => self.ttl_entries -= 1,
                    _ => {}
                }
                idx
            }
            None => {
                while self.len >= self.max_count {
                    self.discard_idx(self.tail, RemovalReason::Evict);
                }
                let hash = self.hasher.hash_one(&key);
                let node = Node {
                    key,
                    value,
                    hash,
                    size,
                    expires_at,
                    ttl,
                    prev: NIL,
                    next: NIL,
                };
                let idx = if self.free_head != NIL {
                    let idx = self.free_head;
                    if let Slot::Free { next_free } = self.slots[idx as usize] {
                        self.free_head = next_free;
                    }
                    self.slots[idx as usize] = Slot::Used(node);
                    idx
                } else {
                    self.slots.push(Slot::Used(node));
                    (self.slots.len() - 1) as u32
                };
                let slots = &self.slots;
                self.table
                    .insert_unique(hash, idx, |&i| match &slots[i as usize] {
                        Slot::Used(n) => n.hash,
                        Slot::Free { .. } => 0,
                    });
                self.push_front(idx);
                self.len += 1;
                self.bytes += size;
                if expires_at != NEVER {
                    self.ttl_entries += 1;
                }
                idx
            }
        };
        if self.max_size != 0 {
            // The new entry is at the front and fits alone, so this stops before it.
            while self.bytes > self.max_size && self.tail != idx {
                self.discard_idx(self.tail, RemovalReason::Evict);
            }
        }
        if self.purge_step != 0 && self.ttl_entries != 0 {
            let t = *now.get_or_insert_with(|| self.clock.now_ms());
            self.sweep(t, self.purge_step);
        }
        SetOutcome::Stored
    }

    /// Examines up to `steps` slots after the sweep cursor, removing expired entries.
    fn sweep(&mut self, now: u64, steps: usize) {
        for _ in 0..steps {
            if self.slots.is_empty() {
                return;
            }
            if self.sweep_cursor >= self.slots.len() {
                self.sweep_cursor = 0;
            }
            let idx = self.sweep_cursor as u32;
            self.sweep_cursor += 1;
            if let Slot::Used(n) = &self.slots[idx as usize] {
                if n.expires_at <= now {
                    self.discard_idx(idx, RemovalReason::Expire);
                }
            }
        }
    }

    /// Removes every expired entry now; returns how many. O(capacity), on request only.
    pub fn purge_stale(&mut self) -> usize {
        if self.ttl_entries == 0 {
            return 0;
        }
        let now = self.now();
        let mut removed = 0;
        for i in 0..self.slots.len() {
            if let Slot::Used(n) = &self.slots[i] {
                if n.expires_at <= now {
                    self.discard_idx(i as u32, RemovalReason::Expire);
                    removed += 1;
                }
            }
        }
        removed
    }

    /// Removes the expired entries among the next `steps` slots after the sweep cursor;
    /// returns how many. Bounded work per call: a full pass over [`Self::slot_count`]
    /// slots can be spread over many short calls (and lock holds).
    pub fn purge_steps(&mut self, steps: usize) -> usize {
        if self.ttl_entries == 0 {
            return 0;
        }
        let before = self.stats.expirations;
        let now = self.now();
        self.sweep(now, steps);
        (self.stats.expirations - before) as usize
    }

    /// Slots in the slab (entries plus free slots): the steps of one full sweep pass.
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Changes the entry bound to `max` (at least 1), evicting least recently used
    /// entries down to it; returns how many were evicted. Used to shrink a cache under
    /// memory pressure and to restore its bound afterwards.
    pub fn set_max(&mut self, max: usize) -> usize {
        self.max_count = max.clamp(1, MAX_SLOTS);
        let mut evicted = 0;
        while self.len > self.max_count {
            self.discard_idx(self.tail, RemovalReason::Evict);
            evicted += 1;
        }
        evicted
    }

    /// Removes everything and releases the memory; counters are kept.
    pub fn clear(&mut self) {
        let slots = std::mem::take(&mut self.slots);
        if let Some(log) = &mut self.removed {
            for slot in slots {
                if let Slot::Used(n) = slot {
                    log.push((n.key, n.value, RemovalReason::Delete));
                }
            }
        }
        self.table = HashTable::new();
        self.free_head = NIL;
        self.head = NIL;
        self.tail = NIL;
        self.len = 0;
        self.bytes = 0;
        self.ttl_entries = 0;
        self.sweep_cursor = 0;
    }

    /// Fresh entries (stale ones too with `allow_stale`), most recently used first,
    /// without touching recency.
    pub fn iter(&self) -> Iter<'_, K, V, S> {
        Iter {
            cache: self,
            cur: self.head,
            now: None,
        }
    }

    /// Keys, most recently used first (the eviction order reversed), including expired
    /// entries not yet removed. For tests and diagnostics.
    pub fn keys_by_recency(&self) -> Vec<&K> {
        let mut out = Vec::with_capacity(self.len);
        let mut cur = self.head;
        while cur != NIL {
            let n = self.node(cur);
            out.push(&n.key);
            cur = n.next;
        }
        out
    }
}

/// Iterator of [`LruCache::iter`].
pub struct Iter<'a, K, V, S> {
    cache: &'a LruCache<K, V, S>,
    cur: u32,
    now: Option<u64>,
}

impl<'a, K: Hash + Eq, V, S: BuildHasher> Iterator for Iter<'a, K, V, S> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        let cache = self.cache;
        while self.cur != NIL {
            let n = cache.node(self.cur);
            self.cur = n.next;
            if cache.allow_stale || !cache.is_expired(n, &mut self.now) {
                return Some((&n.key, &n.value));
            }
        }
        None
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::{Clock, FakeClock};
    use proptest::prelude::*;
    use std::sync::Arc;

    fn opts(max: usize) -> CacheOptions {
        CacheOptions {
            max,
            ..CacheOptions::default()
        }
    }

    fn cache(options: CacheOptions) -> (LruCache<u32, u32>, Arc<FakeClock>) {
        let clock = Arc::new(FakeClock::new(1_000));
        let c = LruCache::new(options, clock.clone()).expect("valid options");
        (c, clock)
    }

    #[test]
    fn needs_a_bound() {
        let o = CacheOptions {
            max: 0,
            max_size: 0,
            ..CacheOptions::default()
        };
        let err = LruCache::<u32, u32>::new(o, Arc::new(FakeClock::new(0))).err();
        assert_eq!(err, Some(OptionsError::Unbounded));
    }

    #[test]
    fn evicts_least_recently_used() {
        let (mut c, _) = cache(opts(3));
        c.track_removals(true);
        for k in 1..=3 {
            c.set(k, k * 10, 1, None);
        }
        assert_eq!(c.get(&1), Some(10));
        c.set(4, 40, 1, None);
        assert_eq!(c.take_removed(), vec![(2, 20, RemovalReason::Evict)]);
        assert_eq!(c.keys_by_recency(), vec![&4, &1, &3]);
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.evictions, s.size), (1, 0, 1, 3));
    }

    #[test]
    fn peek_has_and_iter_do_not_reorder() {
        let (mut c, _) = cache(opts(3));
        for k in 1..=3 {
            c.set(k, k, 1, None);
        }
        assert_eq!(c.peek(&1), Some(&1));
        assert!(c.contains(&1));
        let seen: Vec<_> = c.iter().map(|(k, _)| *k).collect();
        assert_eq!(seen, vec![3, 2, 1]);
        c.set(4, 4, 1, None);
        assert!(!c.contains(&1), "1 stayed least recently used");
        assert_eq!(c.stats().hits, 0);
    }

    #[test]
    fn byte_bound_evicts_until_it_fits_and_rejects_oversize() {
        let (mut c, _) = cache(CacheOptions {
            max: 100,
            max_size: 10,
            ..CacheOptions::default()
        });
        c.set(1, 1, 4, None);
        c.set(2, 2, 4, None);
        c.set(3, 3, 4, None);
        assert_eq!(c.keys_by_recency(), vec![&3, &2]);
        assert_eq!(c.bytes(), 8);
        assert_eq!(c.set(2, 22, 11, None), SetOutcome::Rejected(22));
        assert!(!c.contains(&2), "the replaced value is not served");
        assert_eq!(c.stats().rejected, 1);
        c.set(3, 33, 10, None);
        assert_eq!(c.keys_by_recency(), vec![&3]);
        assert_eq!(c.bytes(), 10);
    }

    #[test]
    fn ttl_lazy_expiry_and_update_age_on_get() {
        let (mut c, clock) = cache(CacheOptions {
            max: 10,
            ttl_ms: 100,
            update_age_on_get: true,
            purge_step: 0,
            ..CacheOptions::default()
        });
        c.set(1, 1, 1, None);
        c.set(2, 2, 1, Some(0));
        c.set(3, 3, 1, Some(500));
        clock.advance(60);
        assert_eq!(c.get(&1), Some(1), "renews to t+160");
        clock.advance(60);
        assert_eq!(c.get(&1), Some(1));
        clock.advance(100);
        assert_eq!(c.get(&1), None);
        assert_eq!(c.get(&2), Some(2), "ttl 0 never expires");
        assert_eq!(c.get(&3), Some(3));
        let s = c.stats();
        assert_eq!((s.expirations, s.misses, s.size), (1, 1, 2));
    }

    #[test]
    fn allow_stale_returns_once_then_removes() {
        let (mut c, clock) = cache(CacheOptions {
            max: 10,
            ttl_ms: 10,
            allow_stale: true,
            purge_step: 0,
            ..CacheOptions::default()
        });
        c.set(1, 1, 1, None);
        clock.advance(10);
        assert!(!c.contains(&1));
        assert_eq!(c.peek(&1), Some(&1));
        assert_eq!(c.get_with(&1, |v, stale| (*v, stale)), Some((1, true)));
        assert_eq!(c.get(&1), None);
    }

    #[test]
    fn incremental_sweep_reclaims_expired_entries() {
        let (mut c, clock) = cache(CacheOptions {
            max: 1000,
            ttl_ms: 10,
            purge_step: 4,
            ..CacheOptions::default()
        });
        for k in 0..100 {
            c.set(k, k, 1, None);
        }
        clock.advance(10);
        // Each set examines 4 slots: about 100 / 4 sets (plus one lap of the cursor
        // over the slot it fills) cover the 100 dead ones.
        for k in 1000..1030 {
            c.set(k, k, 1, Some(0));
        }
        assert_eq!(c.len(), 30);
        assert_eq!(c.stats().expirations, 100);
    }

    #[test]
    fn purge_stale_and_clear() {
        let (mut c, clock) = cache(CacheOptions {
            max: 100,
            ttl_ms: 10,
            purge_step: 0,
            ..CacheOptions::default()
        });
        for k in 0..10 {
            c.set(k, k, 1, if k < 5 { None } else { Some(0) });
        }
        clock.advance(10);
        assert_eq!(c.purge_stale(), 5);
        assert_eq!(c.len(), 5);
        c.clear();
        assert!(c.is_empty());
        assert_eq!((c.bytes(), c.stats().expirations), (0, 5));
        c.set(1, 1, 1, None);
        assert_eq!(c.get(&1), Some(1));
    }

    #[test]
    fn same_millisecond_burst_never_exceeds_max() {
        let (mut c, _) = cache(CacheOptions {
            max: 10,
            ttl_ms: 1000,
            ..CacheOptions::default()
        });
        for k in 0..10_000 {
            c.set(k, k, 1, None);
            assert!(c.len() <= 10);
        }
        assert_eq!(c.len(), 10);
        assert_eq!(c.stats().evictions, 9_990);
        let keys: Vec<u32> = c.keys_by_recency().into_iter().copied().collect();
        assert_eq!(keys, (9_990..10_000).rev().collect::<Vec<_>>());
    }

    #[test]
    fn string_keys_borrow_as_str_and_slices() {
        let clock = Arc::new(FakeClock::new(0));
        let mut c: LruCache<Box<[u8]>, String> = LruCache::new(opts(4), clock).expect("valid");
        c.insert(b"abc".to_vec().into_boxed_slice(), "x".to_owned());
        assert_eq!(c.get(&b"abc"[..]), Some("x".to_owned()));
        assert!(c.delete(&b"abc"[..]));
    }

    #[test]
    fn advice_cache_is_send_sync_and_shared() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<AdviceCache>();
        let clock = Arc::new(FakeClock::new(0));
        let cache = Arc::new(
            AdviceCache::new(
                CacheOptions {
                    max: 50,
                    ttl_ms: 86_400_000,
                    ..CacheOptions::default()
                },
                clock,
            )
            .expect("valid"),
        );
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                let c = Arc::clone(&cache);
                std::thread::spawn(move || {
                    for i in 0..1000u64 {
                        c.insert(t * 10_000 + i, format!("advice {i}"));
                        let _ = c.get(&(t * 10_000 + i / 2));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("no panic");
        }
        assert_eq!(cache.len(), 50);
        assert_eq!(cache.stats().hits + cache.stats().misses, 4000);
    }

    // ---- property tests against an exact reference model ----

    #[derive(Debug, Clone)]
    enum Op {
        Get(u8),
        Peek(u8),
        Has(u8),
        Delete(u8),
        Set(u8, u16, u8, Option<u8>),
        Advance(u8),
        Purge,
    }

    fn op() -> impl Strategy<Value = Op> {
        let k = 0u8..12;
        prop_oneof![
            4 => k.clone().prop_map(Op::Get),
            1 => k.clone().prop_map(Op::Peek),
            1 => k.clone().prop_map(Op::Has),
            1 => k.clone().prop_map(Op::Delete),
            5 => (k, any::<u16>(), 0u8..12, proptest::option::of(0u8..40))
                .prop_map(|(k, v, s, t)| Op::Set(k, v, s, t)),
            1 => (0u8..30).prop_map(Op::Advance),
            1 => Just(Op::Purge),
        ]
    }

    /// Obviously correct LRU: a Vec ordered most recently used first, O(n) everything.
    struct Model {
        entries: Vec<(u8, u16, u64, u64, u64)>, // key, value, size, expires_at, ttl
        o: CacheOptions,
        stats: CacheStats,
        log: Vec<(u8, u16, RemovalReason)>,
    }

    impl Model {
        fn pos(&self, k: u8) -> Option<usize> {
            self.entries.iter().position(|e| e.0 == k)
        }
        fn expired(e: &(u8, u16, u64, u64, u64), now: u64) -> bool {
            e.3 != NEVER && now >= e.3
        }
        fn remove(&mut self, i: usize, r: RemovalReason) {
            let e = self.entries.remove(i);
            match r {
                RemovalReason::Evict => self.stats.evictions += 1,
                RemovalReason::Expire => self.stats.expirations += 1,
                _ => {}
            }
            self.log.push((e.0, e.1, r));
        }
        fn bytes(&self) -> u64 {
            self.entries.iter().map(|e| e.2).sum()
        }
        fn get(&mut self, k: u8, now: u64) -> Option<u16> {
            let Some(i) = self.pos(k) else {
                self.stats.misses += 1;
                return None;
            };
            if Self::expired(&self.entries[i], now) {
                self.stats.misses += 1;
                let v = self.entries[i].1;
                self.remove(i, RemovalReason::Expire);
                return self.o.allow_stale.then_some(v);
            }
            self.stats.hits += 1;
            let mut e = self.entries.remove(i);
            if self.o.update_age_on_get && e.4 != 0 {
                e.3 = now + e.4;
            }
            let v = e.1;
            self.entries.insert(0, e);
            Some(v)
        }
        fn set(&mut self, k: u8, v: u16, size: u64, ttl: Option<u64>, now: u64) {
            let ttl = ttl.unwrap_or(self.o.ttl_ms);
            if self.o.max_size != 0 && size > self.o.max_size {
                if let Some(i) = self.pos(k) {
                    self.remove(i, RemovalReason::Delete);
                }
                self.stats.rejected += 1;
                return;
            }
            let exp = if ttl == 0 { NEVER } else { now + ttl };
            if let Some(i) = self.pos(k) {
                let old = self.entries.remove(i);
                self.log.push((k, old.1, RemovalReason::Set));
            } else {
                let max = if self.o.max == 0 {
                    usize::MAX
                } else {
                    self.o.max
                };
                while self.entries.len() >= max {
                    let last = self.entries.len() - 1;
                    self.remove(last, RemovalReason::Evict);
                }
            }
            self.entries.insert(0, (k, v, size, exp, ttl));
            if self.o.max_size != 0 {
                while self.bytes() > self.o.max_size && self.entries.len() > 1 {
                    let last = self.entries.len() - 1;
                    self.remove(last, RemovalReason::Evict);
                }
            }
        }
    }

    fn options() -> impl Strategy<Value = CacheOptions> {
        (
            0usize..6,
            prop_oneof![Just(0u64), 1u64..30],
            prop_oneof![Just(0u64), 1u64..40],
            any::<bool>(),
            any::<bool>(),
        )
            .prop_filter("bounded", |(m, s, ..)| *m != 0 || *s != 0)
            .prop_map(
                |(max, max_size, ttl_ms, update_age_on_get, allow_stale)| CacheOptions {
                    max,
                    max_size,
                    ttl_ms,
                    update_age_on_get,
                    allow_stale,
                    purge_step: 0,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Without the background sweep, the cache is exactly the model: same results,
        /// same recency order, same removals in the same order, same counters.
        #[test]
        fn matches_exact_lru_model(o in options(), ops in proptest::collection::vec(op(), 1..200)) {
            let clock = Arc::new(FakeClock::new(0));
            let mut c: LruCache<u8, u16> = LruCache::new(o.clone(), clock.clone()).expect("bounded");
            c.track_removals(true);
            let mut m = Model { entries: Vec::new(), o: o.clone(), stats: CacheStats::default(), log: Vec::new() };
            for op in ops {
                let now = clock.now_ms();
                match op {
                    Op::Get(k) => prop_assert_eq!(c.get(&k), m.get(k, now)),
                    Op::Peek(k) => {
                        let want = m.pos(k).map(|i| m.entries[i])
                            .filter(|e| o.allow_stale || !Model::expired(e, now)).map(|e| e.1);
                        prop_assert_eq!(c.peek(&k).copied(), want);
                    }
                    Op::Has(k) => {
                        let want = m.pos(k).is_some_and(|i| !Model::expired(&m.entries[i], now));
                        prop_assert_eq!(c.contains(&k), want);
                    }
                    Op::Delete(k) => {
                        let want = m.pos(k).map(|i| m.remove(i, RemovalReason::Delete)).is_some();
                        prop_assert_eq!(c.delete(&k), want);
                    }
                    Op::Set(k, v, s, t) => {
                        let stored = c.set(k, v, u64::from(s), t.map(u64::from)) == SetOutcome::Stored;
                        m.set(k, v, u64::from(s), t.map(u64::from), now);
                        prop_assert_eq!(stored, m.pos(k).is_some());
                    }
                    Op::Advance(ms) => clock.advance(u64::from(ms)),
                    Op::Purge => {
                        let expired: Vec<usize> = (0..m.entries.len()).rev()
                            .filter(|&i| Model::expired(&m.entries[i], now)).collect();
                        let n = expired.len();
                        for i in expired { m.remove(i, RemovalReason::Expire); }
                        prop_assert_eq!(c.purge_stale(), n);
                        // Purge walks slots, not recency: compare its removals as sets.
                        let mut got = c.take_removed();
                        let mut want = std::mem::take(&mut m.log);
                        got.sort_by_key(|e| e.0);
                        want.sort_by_key(|e| e.0);
                        prop_assert_eq!(got, want);
                    }
                }
                prop_assert_eq!(c.take_removed(), std::mem::take(&mut m.log));
                let keys: Vec<u8> = c.keys_by_recency().into_iter().copied().collect();
                let want: Vec<u8> = m.entries.iter().map(|e| e.0).collect();
                prop_assert_eq!(keys, want);
                let fresh: Vec<(u8, u16)> = c.iter().map(|(k, v)| (*k, *v)).collect();
                let now = clock.now_ms();
                let want: Vec<(u8, u16)> = m.entries.iter()
                    .filter(|e| o.allow_stale || !Model::expired(e, now)).map(|e| (e.0, e.1)).collect();
                prop_assert_eq!(fresh, want);
                let mut ms = m.stats;
                ms.size = m.entries.len() as u64;
                ms.bytes = m.bytes();
                prop_assert_eq!(c.stats(), ms);
            }
        }

        /// With the sweep on, removing dead entries early only changes what is held, never
        /// what is served: every value returned is the latest one set and not expired, and
        /// the bounds always hold.
        #[test]
        fn sweep_never_serves_wrong_or_dead_values(
            o in options(), step in 1usize..6, ops in proptest::collection::vec(op(), 1..200)
        ) {
            let o = CacheOptions { purge_step: step, allow_stale: false, ..o };
            let clock = Arc::new(FakeClock::new(0));
            let mut c: LruCache<u8, u16> = LruCache::new(o.clone(), clock.clone()).expect("bounded");
            let mut last: std::collections::HashMap<u8, (u16, u64)> = Default::default();
            for op in ops {
                let now = clock.now_ms();
                match op {
                    Op::Get(k) => {
                        if let Some(v) = c.get(&k) {
                            let (want, exp) = last[&k];
                            prop_assert_eq!(v, want);
                            prop_assert!(o.update_age_on_get || now < exp);
                        }
                    }
                    Op::Set(k, v, s, t) => {
                        let ttl = t.map(u64::from).unwrap_or(o.ttl_ms);
                        c.set(k, v, u64::from(s), t.map(u64::from));
                        last.insert(k, (v, if ttl == 0 { NEVER } else { now + ttl }));
                    }
                    Op::Delete(k) => { c.delete(&k); }
                    Op::Advance(ms) => clock.advance(u64::from(ms)),
                    Op::Purge => { c.purge_stale(); }
                    Op::Peek(_) | Op::Has(_) => {}
                }
                if o.max != 0 { prop_assert!(c.len() <= o.max); }
                if o.max_size != 0 { prop_assert!(c.bytes() <= o.max_size); }
                prop_assert_eq!(c.keys_by_recency().len(), c.len());
            }
        }
    }
}

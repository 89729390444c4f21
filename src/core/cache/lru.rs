//! The single-threaded LRU cache: a slab of nodes linked by recency, indexed by a hash
//! table of slot numbers.

use super::*;

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

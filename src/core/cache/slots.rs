//! The slot-indexed LRU behind the JS `LruCache`: values, sizes, TTLs and the recency
//! order, addressed by a small integer slot that the caller maps its keys to.
//!
//! It holds no keys: the JS side keeps a `Map` from key to slot, so a lookup never
//! carries a key across the N-API boundary. Every removal (eviction, expiry, delete,
//! replacement) is queued as `(slot, reason)` for the caller to drop the key that
//! pointed at the slot; with value tracking on, the removed values are queued too (for
//! `dispose`). Time is passed in by the caller (milliseconds as `f64`), so the JS clock
//! (and fake timers driving it) decides expiry; an entry is expired when its age is
//! greater than its TTL.

use super::{CacheStats, RemovalReason, MAX_SLOTS, NIL};

struct Entry<V> {
    value: V,
    size: u64,
    /// When the TTL started (caller's clock).
    start: f64,
    /// 0 = no expiry.
    ttl: f64,
    prev: u32,
    next: u32,
}

/// Bounds and defaults of a [`SlotLru`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SlotOptions {
    /// Most entries; 0 = bounded by `max_size` only.
    pub max: usize,
    /// Most total size; 0 = no size bound.
    pub max_size: u64,
    /// Default TTL in ms for entries set without one; 0 = no expiry.
    pub ttl: f64,
    /// A `get` that finds the entry restarts its TTL.
    pub update_age_on_get: bool,
    /// `get` answers an expired value once (then removes it); `peek` answers it.
    pub allow_stale: bool,
}

impl SlotOptions {
    /// Whether inserts sweep a few slots for expired entries: only a cache bounded by
    /// TTL alone needs it (in a bounded one, expired entries age out as least recently
    /// used, and stay readable as stale until then, as in lru-cache).
    fn sweeps(&self) -> bool {
        self.max == 0 && self.max_size == 0
    }
}

/// The slot-indexed cache. See the module documentation.
pub struct SlotLru<V> {
    entries: Vec<Option<Entry<V>>>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
    len: usize,
    total: u64,
    opts: SlotOptions,
    max_count: usize,
    /// Entries with a TTL; while 0 no time is compared.
    timed: usize,
    sweep_cursor: usize,
    stats: CacheStats,
    removed: Vec<(u32, RemovalReason)>,
    /// Removed values, in the order of `removed`, when tracking is on.
    removed_values: Option<Vec<V>>,
}

/// Slots examined for expired entries on each insert.
const SWEEP_STEP: usize = 4;

impl<V> SlotLru<V> {
    /// A cache bounded by `opts` (the caller checks that one bound is set).
    pub fn new(opts: SlotOptions) -> Self {
        let max_count = if opts.max == 0 {
            MAX_SLOTS
        } else {
            opts.max.min(MAX_SLOTS)
        };
        Self {
            entries: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            len: 0,
            total: 0,
            opts,
            max_count,
            timed: 0,
            sweep_cursor: 0,
            stats: CacheStats::default(),
            removed: Vec::new(),
            removed_values: None,
        }
    }

    /// Keeps removed values for [`Self::drain_removed`] from now on.
    pub fn track_values(&mut self) {
        self.removed_values.get_or_insert_with(Vec::new);
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sum of the entry sizes.
    pub fn total_size(&self) -> u64 {
        self.total
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            size: self.len as u64,
            bytes: self.total,
            ..self.stats
        }
    }

    /// Removals queued since the last [`Self::drain_removed`].
    pub fn removed(&self) -> &[(u32, RemovalReason)] {
        &self.removed
    }

    /// Moves the queued removals (and their values, when tracked) into `slots` and
    /// `values`, keeping the queues' memory for the next ones.
    pub fn drain_removed(
        &mut self,
        slots: &mut impl Extend<(u32, RemovalReason)>,
        values: &mut impl Extend<V>,
    ) {
        slots.extend(self.removed.drain(..));
        if let Some(log) = &mut self.removed_values {
            values.extend(log.drain(..));
        }
    }

    fn entry(&self, slot: u32) -> Option<&Entry<V>> {
        self.entries.get(slot as usize)?.as_ref()
    }

    fn entry_mut(&mut self, slot: u32) -> &mut Entry<V> {
        match self.entries.get_mut(slot as usize) {
            Some(Some(e)) => e,
            // Linked slots are always used; reaching this is a bug.
            _ => unreachable!("empty slot reached through the recency list"),
        }
    }

    fn expired(e: &Entry<V>, now: f64) -> bool {
        e.ttl != 0.0 && now - e.start > e.ttl
    }

    fn unlink(&mut self, slot: u32) {
        let (prev, next) = {
            let e = self.entry_mut(slot);
            (e.prev, e.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.entry_mut(prev).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.entry_mut(next).prev = prev;
        }
    }

    fn push_front(&mut self, slot: u32) {
        let old = self.head;
        {
            let e = self.entry_mut(slot);
            e.prev = NIL;
            e.next = old;
        }
        if old == NIL {
            self.tail = slot;
        } else {
            self.entry_mut(old).prev = slot;
        }
        self.head = slot;
    }

    fn touch(&mut self, slot: u32) {
        if self.head != slot {
            self.unlink(slot);
            self.push_front(slot);
        }
    }

    /// Frees `slot`, queues the removal and returns the value when it is not tracked.
    fn remove_slot(&mut self, slot: u32, reason: RemovalReason) -> Option<V> {
        self.unlink(slot);
        let e = self.entries[slot as usize].take()?;
        self.free.push(slot);
        self.len -= 1;
        self.total -= e.size;
        if e.ttl != 0.0 {
            self.timed -= 1;
        }
        match reason {
            RemovalReason::Evict => self.stats.evictions += 1,
            RemovalReason::Expire => self.stats.expirations += 1,
            RemovalReason::Set | RemovalReason::Delete => {}
        }
        self.removed.push((slot, reason));
        match &mut self.removed_values {
            Some(log) => {
                log.push(e.value);
                None
            }
            None => Some(e.value),
        }
    }

    /// Stores a new entry as the most recently used and returns its slot, evicting
    /// least recently used entries to fit. `size` must not exceed `max_size` (the
    /// caller refuses larger entries); `ttl` overrides the default (`Some(0.0)` = none).
    pub fn insert(&mut self, value: V, size: u64, ttl: Option<f64>, now: f64) -> u32 {
        while self.len >= self.max_count && self.tail != NIL {
            self.remove_slot(self.tail, RemovalReason::Evict);
        }
        let ttl = ttl.unwrap_or(self.opts.ttl);
        let entry = Entry {
            value,
            size,
            start: now,
            ttl,
            prev: NIL,
            next: NIL,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.entries[s as usize] = Some(entry);
                s
            }
            None => {
                self.entries.push(Some(entry));
                (self.entries.len() - 1) as u32
            }
        };
        self.push_front(slot);
        self.len += 1;
        self.total += size;
        if ttl != 0.0 {
            self.timed += 1;
        }
        self.fit(slot, now);
        slot
    }

    /// Whether an insert must evict first (the count bound is reached).
    pub fn is_full(&self) -> bool {
        self.len >= self.max_count
    }

    /// Used slots from the least recently used on: the order a full cache evicts them in.
    pub fn lru_slots(&self) -> impl Iterator<Item = u32> + '_ {
        let mut cur = self.tail;
        std::iter::from_fn(move || {
            let e = self.entry(cur)?;
            let slot = cur;
            cur = e.prev;
            Some(slot)
        })
    }

    /// Evicts `victim` and stores a new entry in its slot, as the most recently used:
    /// [`Self::insert`] for a caller that chose the victim and dropped it already, so the
    /// eviction is counted but not queued. Returns false (and stores nothing) when
    /// `victim` is not in use.
    pub fn insert_over(
        &mut self,
        victim: u32,
        value: V,
        size: u64,
        ttl: Option<f64>,
        now: f64,
    ) -> bool {
        if self.entry(victim).is_none() {
            return false;
        }
        self.stats.evictions += 1;
        // The entry is reused in place: what removing it and inserting into the slot it
        // frees would leave, without the moves through the free list and the queue.
        drop(self.rewrite(victim, value, size, ttl, now));
        self.touch(victim);
        self.fit(victim, now);
        true
    }

    /// Replaces the value of a used `slot` (queued as a `Set` removal of the old value)
    /// and makes it the most recently used. Returns false when `slot` is not in use.
    pub fn replace(&mut self, slot: u32, value: V, size: u64, ttl: Option<f64>, now: f64) -> bool {
        if self.entry(slot).is_none() {
            // The value is dropped: the caller asked for a slot it does not hold.
            return false;
        }
        self.touch(slot);
        let old = self.rewrite(slot, value, size, ttl, now);
        self.removed.push((slot, RemovalReason::Set));
        if let Some(log) = &mut self.removed_values {
            log.push(old);
        }
        self.fit(slot, now);
        true
    }

    /// Gives the used `slot` a new value, size and TTL (the default when `None`) started
    /// at `now`, keeping the size total and the count of timed entries; returns the old
    /// value. Its place in the recency list is the caller's.
    fn rewrite(&mut self, slot: u32, value: V, size: u64, ttl: Option<f64>, now: f64) -> V {
        let ttl = ttl.unwrap_or(self.opts.ttl);
        let e = self.entry_mut(slot);
        let old_size = std::mem::replace(&mut e.size, size);
        let had_ttl = e.ttl != 0.0;
        e.ttl = ttl;
        e.start = now;
        let old = std::mem::replace(&mut e.value, value);
        self.total = self.total - old_size + size;
        match (had_ttl, ttl != 0.0) {
            (false, true) => self.timed += 1,
            (true, false) => self.timed -= 1,
            _ => {}
        }
        old
    }

    /// Evicts down to the size bound (never `keep`, which fits alone) and sweeps a few
    /// slots for expired entries.
    fn fit(&mut self, keep: u32, now: f64) {
        if self.opts.max_size != 0 {
            while self.total > self.opts.max_size && self.tail != keep && self.tail != NIL {
                self.remove_slot(self.tail, RemovalReason::Evict);
            }
        }
        if self.timed != 0 && self.opts.sweeps() {
            for _ in 0..SWEEP_STEP {
                if self.sweep_cursor >= self.entries.len() {
                    self.sweep_cursor = 0;
                }
                let slot = self.sweep_cursor as u32;
                self.sweep_cursor += 1;
                if slot != keep && self.entry(slot).is_some_and(|e| Self::expired(e, now)) {
                    self.remove_slot(slot, RemovalReason::Expire);
                }
            }
        }
    }

    /// Passes the value of `slot` to `f`, made most recently used, with `false`; an
    /// expired entry is removed, after `f` sees it with `true` when `allow_stale`.
    pub fn get_with<R>(&mut self, slot: u32, now: f64, f: impl FnOnce(&V, bool) -> R) -> Option<R> {
        let Some(expired) = self.entry(slot).map(|e| Self::expired(e, now)) else {
            self.stats.misses += 1;
            return None;
        };
        if expired {
            self.stats.misses += 1;
            let out = self
                .opts
                .allow_stale
                .then(|| f(&self.entry_mut(slot).value, true));
            self.remove_slot(slot, RemovalReason::Expire);
            return out;
        }
        self.stats.hits += 1;
        self.touch(slot);
        let update = self.opts.update_age_on_get;
        let e = self.entry_mut(slot);
        if e.ttl != 0.0 && update {
            e.start = now;
        }
        Some(f(&e.value, false))
    }

    /// A hit on `slot` found fresh by the caller: made most recently used and counted,
    /// as [`Self::get_with`] does for a fresh entry without `update_age_on_get`. No-op
    /// for an unused slot.
    pub fn hit(&mut self, slot: u32) {
        if self.entry(slot).is_some() {
            self.stats.hits += 1;
            self.touch(slot);
        }
    }

    /// The value of `slot` without changing recency or counters; an expired one only
    /// when `allow_stale`.
    pub fn peek(&self, slot: u32, now: f64, allow_stale: bool) -> Option<&V> {
        let e = self.entry(slot)?;
        (allow_stale || !Self::expired(e, now)).then_some(&e.value)
    }

    /// Whether `slot` holds a fresh value.
    pub fn has(&self, slot: u32, now: f64) -> bool {
        self.entry(slot).is_some_and(|e| !Self::expired(e, now))
    }

    /// Milliseconds `slot` has left: `None` when unused, `Some(INFINITY)` without a TTL,
    /// negative once expired.
    pub fn remaining(&self, slot: u32, now: f64) -> Option<f64> {
        let e = self.entry(slot)?;
        Some(if e.ttl == 0.0 {
            f64::INFINITY
        } else {
            e.start + e.ttl - now
        })
    }

    /// TTL and start of `slot` (for `dump` and `info`).
    pub fn timing(&self, slot: u32) -> Option<(f64, f64)> {
        self.entry(slot).map(|e| (e.ttl, e.start))
    }

    /// The value of `slot` to change in place, with no change of recency, TTL, size or
    /// counters (for a value the caller moves into this cache from its own storage).
    pub fn value_mut(&mut self, slot: u32) -> Option<&mut V> {
        self.entries
            .get_mut(slot as usize)?
            .as_mut()
            .map(|e| &mut e.value)
    }

    /// Size of `slot`.
    pub fn size_of(&self, slot: u32) -> Option<u64> {
        self.entry(slot).map(|e| e.size)
    }

    /// Removes `slot` for `reason`; returns whether it was in use.
    pub fn remove(&mut self, slot: u32, reason: RemovalReason) -> bool {
        if self.entry(slot).is_none() {
            return false;
        }
        self.remove_slot(slot, reason);
        true
    }

    /// Removes every entry (reason `Delete`); counters are kept.
    pub fn clear(&mut self) {
        while self.tail != NIL {
            self.remove_slot(self.tail, RemovalReason::Delete);
        }
        if self.removed_values.is_none() {
            self.entries = Vec::new();
            self.free = Vec::new();
        }
        self.sweep_cursor = 0;
    }

    /// Removes every expired entry; returns how many.
    pub fn purge_stale(&mut self, now: f64) -> usize {
        if self.timed == 0 {
            return 0;
        }
        let mut n = 0;
        let mut cur = self.tail;
        while cur != NIL {
            let e = self.entry_mut(cur);
            let prev = e.prev;
            if Self::expired(e, now) {
                self.remove_slot(cur, RemovalReason::Expire);
                n += 1;
            }
            cur = prev;
        }
        n
    }

    /// Used slots, most recently used first, with whether each is expired.
    pub fn order(&self, now: f64) -> Vec<(u32, bool)> {
        let mut out = Vec::with_capacity(self.len);
        let mut cur = self.head;
        while let Some(e) = self.entry(cur) {
            out.push((cur, Self::expired(e, now)));
            cur = e.next;
        }
        out
    }
}

#[cfg(test)]
#[path = "slots_tests.rs"]
mod tests;

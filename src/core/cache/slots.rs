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

    /// Replaces the value of a used `slot` (queued as a `Set` removal of the old value)
    /// and makes it the most recently used. Returns false when `slot` is not in use.
    pub fn replace(&mut self, slot: u32, value: V, size: u64, ttl: Option<f64>, now: f64) -> bool {
        if self.entry(slot).is_none() {
            // The value is dropped: the caller asked for a slot it does not hold.
            return false;
        }
        self.touch(slot);
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
        self.removed.push((slot, RemovalReason::Set));
        if let Some(log) = &mut self.removed_values {
            log.push(old);
        }
        self.fit(slot, now);
        true
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
mod tests {
    use super::*;

    impl<V> SlotLru<V> {
        fn take_removed(&mut self) -> (Vec<(u32, RemovalReason)>, Vec<V>) {
            let (mut slots, mut values) = (Vec::new(), Vec::new());
            self.drain_removed(&mut slots, &mut values);
            (slots, values)
        }
    }

    fn lru(max: usize, max_size: u64) -> SlotLru<u32> {
        SlotLru::new(SlotOptions {
            max,
            max_size,
            ..SlotOptions::default()
        })
    }

    #[test]
    fn evicts_the_least_recently_used_and_reports_its_slot() {
        let mut c = lru(2, 0);
        let a = c.insert(1, 0, None, 0.0);
        let b = c.insert(2, 0, None, 0.0);
        assert_eq!(c.get_with(a, 0.0, |v, _| *v), Some(1));
        let d = c.insert(3, 0, None, 0.0);
        assert_eq!(c.removed(), &[(b, RemovalReason::Evict)]);
        // The freed slot is reused for the new entry.
        assert_eq!(d, b);
        assert_eq!(c.order(0.0), vec![(d, false), (a, false)]);
    }

    #[test]
    fn size_bound_keeps_the_new_entry() {
        let mut c = lru(0, 10);
        let a = c.insert(1, 6, None, 0.0);
        let b = c.insert(2, 6, None, 0.0);
        assert_eq!(c.removed(), &[(a, RemovalReason::Evict)]);
        assert_eq!(c.total_size(), 6);
        assert!(c.has(b, 0.0));
    }

    #[test]
    fn expires_when_age_exceeds_ttl() {
        let mut c = lru(10, 0);
        let a = c.insert(1, 0, Some(10.0), 100.0);
        assert!(c.has(a, 110.0));
        assert!(!c.has(a, 110.5));
        assert_eq!(c.get_with(a, 111.0, |v, _| *v), None);
        assert_eq!(c.removed(), &[(a, RemovalReason::Expire)]);
        assert_eq!(c.stats().expirations, 1);
    }

    #[test]
    fn stale_get_answers_once() {
        let mut c = SlotLru::new(SlotOptions {
            max: 4,
            allow_stale: true,
            ..SlotOptions::default()
        });
        let a = c.insert(7u32, 0, Some(1.0), 0.0);
        assert_eq!(c.get_with(a, 5.0, |v, stale| (*v, stale)), Some((7, true)));
        assert_eq!(c.get_with(a, 5.0, |v, stale| (*v, stale)), None);
    }

    #[test]
    fn hit_moves_to_front_and_counts() {
        let mut c = lru(2, 0);
        let a = c.insert(1, 0, None, 0.0);
        let b = c.insert(2, 0, None, 0.0);
        c.hit(a);
        c.hit(99);
        assert_eq!(c.stats().hits, 1);
        c.insert(3, 0, None, 0.0);
        assert_eq!(c.removed(), &[(b, RemovalReason::Evict)]);
    }

    #[test]
    fn value_mut_changes_the_value_only() {
        let mut c = lru(2, 0);
        let a = c.insert(1, 0, None, 0.0);
        let b = c.insert(2, 0, None, 0.0);
        if let Some(v) = c.value_mut(a) {
            *v = 10;
        }
        assert_eq!(c.peek(a, 0.0, false), Some(&10));
        assert!(c.removed().is_empty());
        // `a` is still the least recently used: the next insert evicts it.
        c.insert(3, 0, None, 0.0);
        assert_eq!(c.removed(), &[(a, RemovalReason::Evict)]);
        assert_eq!(c.peek(b, 0.0, false), Some(&2));
        assert!(c.value_mut(99).is_none());
    }

    #[test]
    fn replace_queues_the_old_value_when_tracked() {
        let mut c = lru(4, 0);
        c.track_values();
        let a = c.insert(1, 0, None, 0.0);
        assert!(c.replace(a, 2, 0, None, 0.0));
        let (slots, values) = c.take_removed();
        assert_eq!(slots, vec![(a, RemovalReason::Set)]);
        assert_eq!(values, vec![1]);
        assert!(!c.replace(99, 3, 0, None, 0.0));
    }

    #[test]
    fn only_a_cache_bounded_by_ttl_alone_sweeps() {
        for (max, swept) in [(0, true), (10, false)] {
            let mut c = SlotLru::new(SlotOptions {
                max,
                ttl: 5.0,
                ..SlotOptions::default()
            });
            let a = c.insert(1u32, 0, None, 0.0);
            c.take_removed();
            for i in 0..8 {
                c.insert(i, 0, Some(0.0), 10.0);
            }
            let expired = c.take_removed().0.contains(&(a, RemovalReason::Expire));
            assert_eq!(expired, swept, "max {max}");
        }
    }

    #[test]
    fn purge_and_clear_report_every_slot() {
        let mut c = lru(4, 0);
        let a = c.insert(1, 0, Some(5.0), 0.0);
        let b = c.insert(2, 0, None, 0.0);
        assert_eq!(c.purge_stale(10.0), 1);
        c.clear();
        assert_eq!(
            c.take_removed().0,
            vec![(a, RemovalReason::Expire), (b, RemovalReason::Delete)]
        );
        assert!(c.is_empty());
    }
}

//! The bounded key table: dense slots, a hash index, CLOCK eviction and the sweep.

use hashbrown::HashTable;

/// Counters since creation (`keys` is the current table size).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub keys: u64,
    pub allowed: u64,
    pub limited: u64,
    pub evicted: u64,
    pub swept: u64,
}

/// One key: its hash, its theoretical arrival time (with a fixed window: the window's
/// end), its hits in that window (fixed window only; it fits in the slot's padding), and
/// whether it was seen since the eviction hand last passed it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot {
    pub(super) key: u64,
    pub(super) tat: u64,
    pub(super) hits: u32,
    pub(super) seen: bool,
}

/// Dense slots and a hash index into them. Removal swaps the last slot into the hole, so
/// slots stay dense and both cursors (sweep and eviction hand) walk memory in order.
///
/// The index holds slot numbers only (4 bytes each), found by the key hash their slot
/// stores: for 100 000 keys it is ~650 KB, which stays in the CPU's L2 cache, so a lookup
/// in a large table misses the cache once, on the slot the decision reads anyway. A map
/// from hash to slot (16-byte buckets, 2 MB) missed twice: `perf` put ~40% of a check on
/// 100 000 keys in those two misses.
///
/// Recency is one flag per slot (CLOCK, "second chance") rather than a linked list: on a
/// large table a list costs two extra cache misses per request (the neighbours), which
/// measured as the main cost of a check. The flag lives in the slot the decision reads
/// anyway.
pub(super) struct Table {
    index: HashTable<u32>,
    pub(super) slots: Vec<Slot>,
    /// Next slot the incremental sweep inspects.
    cursor: usize,
    /// Next slot the eviction hand inspects.
    hand: usize,
    pub(super) stats: Stats,
}

impl Table {
    pub(super) fn new() -> Self {
        Self {
            index: HashTable::new(),
            slots: Vec::new(),
            cursor: 0,
            hand: 0,
            stats: Stats::default(),
        }
    }

    #[inline]
    pub(super) fn find(&self, key: u64) -> Option<u32> {
        let slots = &self.slots;
        self.index
            .find(key, |&i| slots[i as usize].key == key)
            .copied()
    }

    #[inline]
    pub(super) fn touch(&mut self, i: u32) {
        self.slots[i as usize].seen = true;
    }

    pub(super) fn remove(&mut self, i: u32) {
        let key = self.slots[i as usize].key;
        if let Ok(entry) = self.index.find_entry(key, |&j| j == i) {
            entry.remove();
        }
        let last = (self.slots.len() - 1) as u32;
        self.slots.swap_remove(i as usize);
        if i != last {
            // The former last slot now lives at `i`.
            let moved = self.slots[i as usize].key;
            if let Some(j) = self.index.find_mut(moved, |&j| j == last) {
                *j = i;
            }
        }
    }

    /// Removes one key to make room: the first slot at the hand that has refilled or has
    /// not been seen since the hand last passed it; seen slots lose their flag and are
    /// passed over. Every pass clears the flags it crosses, so this ends within
    /// `len + 1` steps and costs O(1) amortized.
    fn evict_one(&mut self, now: u64) {
        let len = self.slots.len();
        for _ in 0..=len {
            if self.hand >= len {
                self.hand = 0;
            }
            let s = &mut self.slots[self.hand];
            if s.tat <= now {
                self.stats.swept += 1;
                break;
            }
            if !s.seen {
                self.stats.evicted += 1;
                break;
            }
            s.seen = false;
            self.hand += 1;
        }
        if self.hand >= len {
            self.hand = 0;
        }
        self.remove(self.hand as u32);
    }

    /// Adds a key the table does not hold, making room first when it is full.
    pub(super) fn insert(
        &mut self,
        key: u64,
        tat: u64,
        hits: u32,
        max_keys: usize,
        now: u64,
    ) -> u32 {
        if self.slots.len() >= max_keys && !self.slots.is_empty() {
            self.evict_one(now);
        }
        let i = self.slots.len() as u32;
        // A new key starts unseen: it earns its second chance by coming back, so a flood
        // of one-time keys replaces itself instead of flushing the established clients.
        self.slots.push(Slot {
            key,
            tat,
            hits,
            seen: false,
        });
        let slots = &self.slots;
        self.index.insert_unique(key, i, |&j| slots[j as usize].key);
        i
    }

    /// Inspects up to `steps` slots at the cursor, deleting refilled keys.
    pub(super) fn sweep(&mut self, steps: usize, now: u64) -> usize {
        let mut removed = 0;
        for _ in 0..steps {
            if self.slots.is_empty() {
                self.cursor = 0;
                break;
            }
            if self.cursor >= self.slots.len() {
                self.cursor = 0;
            }
            if self.slots[self.cursor].tat <= now {
                // The slot swapped into the hole is inspected on the next step.
                self.remove(self.cursor as u32);
                removed += 1;
            } else {
                self.cursor += 1;
            }
        }
        if removed > 0 {
            self.stats.swept += removed as u64;
            self.maybe_shrink();
        }
        removed
    }

    /// Gives memory back once the table has emptied to a quarter of its capacity. Rehashing
    /// `len` entries is paid for by the `3·len` removals since the last growth.
    fn maybe_shrink(&mut self) {
        let len = self.slots.len();
        if self.slots.capacity() > 1024 && len * 4 < self.slots.capacity() {
            self.slots.shrink_to(len * 2);
            let slots = &self.slots;
            self.index.shrink_to(len * 2, |&j| slots[j as usize].key);
        }
    }

    pub(super) fn clear(&mut self) {
        self.index = HashTable::new();
        self.slots = Vec::new();
        self.cursor = 0;
        self.hand = 0;
    }
}

impl Table {
    /// Bytes held on the heap (slots and index).
    pub(super) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.index.capacity() * (std::mem::size_of::<u32>() + 1)
    }
}

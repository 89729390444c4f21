//! A bounded memo of recent lines: what a line-by-line pass over stack traces computed for
//! each line, so the frame lines an error storm repeats cost a hash lookup. Used per thread
//! by redaction (`sanitize::redact_lines`) and fingerprinting (`fingerprint`).
//!
//! Keys are compared by content, so a hash collision can never hand back another line's
//! value. When a bound is reached the whole memo is cleared rather than evicting one entry:
//! a hit (the hot path) then needs no recency bookkeeping, and after a clear the few hot
//! frame lines of a storm are back after one miss each. Unique lines (the message line of
//! each error) are what fills it, so a clear happens at most once per few thousand new lines;
//! a memo with a doorkeeper (`admitting_repeats`) keeps only lines seen twice, so unique
//! lines cost a hash instead.

use std::hash::BuildHasher;

use hashbrown::HashMap;

/// Rough heap and table cost of one entry beyond its line and value.
const ENTRY_OVERHEAD: usize = 48;

/// Slots of the doorkeeper (a power of two): hashes of lines seen once, not yet kept.
const DOOR_SLOTS: usize = 4096;

/// Recent lines and a value computed from each.
pub struct LineMemo<V> {
    map: HashMap<Box<str>, V>,
    bytes: usize,
    max_line: usize,
    max_entries: usize,
    max_bytes: usize,
    /// With a doorkeeper, a line is kept on its second sighting only: the hashes of lines
    /// seen once sit here (one per slot, a newer one replacing an older one). Lines that
    /// never repeat then cost a hash, not a copy into the memo.
    door: Option<Box<[u64]>>,
}

impl<V> LineMemo<V> {
    /// Lines longer than `max_line` bytes are not kept; at most `max_entries` entries and
    /// `max_bytes` bytes (lines, values as `size` counts them, and overhead).
    pub fn new(max_line: usize, max_entries: usize, max_bytes: usize) -> Self {
        Self {
            map: HashMap::new(),
            bytes: 0,
            max_line,
            max_entries,
            max_bytes,
            door: None,
        }
    }

    /// [`new`](Self::new), keeping a line only the second time it is seen (recently).
    pub fn admitting_repeats(max_line: usize, max_entries: usize, max_bytes: usize) -> Self {
        Self {
            door: Some(vec![0; DOOR_SLOTS].into_boxed_slice()),
            ..Self::new(max_line, max_entries, max_bytes)
        }
    }

    /// The value of `line`: remembered, or computed by `make` and remembered. `None` for a
    /// line too long to keep (the caller computes it directly).
    pub fn get_or_make(
        &mut self,
        line: &str,
        size: impl FnOnce(&V) -> usize,
        make: impl FnOnce(&str) -> V,
    ) -> Option<&V> {
        if line.len() > self.max_line {
            return None;
        }
        if self.map.contains_key(line) {
            return self.map.get(line);
        }
        if let Some(door) = self.door.as_mut() {
            let h = self.map.hasher().hash_one(line);
            let slot = &mut door[h as usize & (DOOR_SLOTS - 1)];
            if *slot != h {
                // First sighting: remembered by its hash only; the caller computes it.
                *slot = h;
                return None;
            }
        }
        let value = make(line);
        let cost = line.len() + size(&value) + ENTRY_OVERHEAD;
        if self.map.len() >= self.max_entries || self.bytes + cost > self.max_bytes {
            self.map.clear();
            self.bytes = 0;
        }
        self.bytes += cost;
        Some(self.map.entry(line.into()).insert(value).into_mut())
    }

    /// Entries kept.
    pub fn entries(&self) -> usize {
        self.map.len()
    }

    /// Bytes counted against the bound.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_and_computes_once() {
        let mut m = LineMemo::new(100, 10, 10_000);
        let mut calls = 0;
        for _ in 0..3 {
            let v = m.get_or_make(
                "at f (a.js:1:2)",
                |v: &usize| *v,
                |l| {
                    calls += 1;
                    l.len()
                },
            );
            assert_eq!(v, Some(&15));
        }
        assert_eq!(calls, 1);
    }

    #[test]
    fn a_doorkeeper_keeps_lines_seen_twice() {
        let mut m = LineMemo::admitting_repeats(100, 10, 10_000);
        let mut calls = 0;
        let mut make = |l: &str| {
            calls += 1;
            l.len()
        };
        assert_eq!(m.get_or_make("once", |v: &usize| *v, &mut make), None);
        assert_eq!(m.entries(), 0);
        assert_eq!(m.get_or_make("twice", |v: &usize| *v, &mut make), None);
        assert_eq!(m.get_or_make("twice", |v: &usize| *v, &mut make), Some(&5));
        assert_eq!(m.get_or_make("twice", |v: &usize| *v, &mut make), Some(&5));
        assert_eq!(m.entries(), 1);
        // Computed once, on the sighting that kept it.
        assert_eq!(calls, 1);
    }

    #[test]
    fn long_lines_are_not_kept() {
        let mut m = LineMemo::new(4, 10, 10_000);
        assert!(m.get_or_make("12345", |_: &()| 0, |_| ()).is_none());
        assert_eq!(m.entries(), 0);
    }

    #[test]
    fn stays_within_its_bounds() {
        let mut m = LineMemo::new(64, 100, 4096);
        for i in 0..10_000 {
            let line = format!("line {i}");
            m.get_or_make(&line, |v: &String| v.len(), |l| l.to_uppercase());
            assert!(m.entries() <= 100);
            assert!(m.bytes() <= 4096);
        }
        let counted: usize = m
            .map
            .iter()
            .map(|(k, v)| k.len() + v.len() + ENTRY_OVERHEAD)
            .sum();
        assert_eq!(counted, m.bytes());
    }
}

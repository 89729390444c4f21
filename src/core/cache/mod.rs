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

mod lru;
mod slots;
mod sync;

pub use lru::*;
pub use slots::*;
pub use sync::*;

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

#[cfg(test)]
mod tests;

//! A keyed rate limiter: per-key GCRA, bounded, O(1) per decision.
//!
//! # Algorithm
//! GCRA (the generic cell rate algorithm) keeps one number per key, the theoretical
//! arrival time `tat`: the moment at which the key's bucket would be full again. A request
//! of cost `c` is allowed when `max(tat, now) + c·T - now <= burst·T`, where `T` is the
//! emission interval `windowMs / limit`. It is a token bucket of `burst` tokens refilled
//! at `limit` per `windowMs`, stored as a single time instead of a (count, time) pair.
//! A denied request changes nothing (a blocked client does not push its own reset away).
//!
//! Time is counted in units of `1 / scale` ms with `scale = limit / gcd(limit, windowMs)`,
//! so `T = windowMs / gcd` is an integer and all arithmetic is exact: decisions equal a
//! token-bucket model with exact rationals (see the property test).
//!
//! # Bounds
//! - At most `max_keys` keys. A new key arriving at a full table removes a key chosen by
//!   CLOCK (second chance), an approximation of least recently seen: the eviction hand
//!   walks the slots, passing over (and clearing) keys seen since its last pass, and
//!   removes the first refilled or unseen one (counted as `swept` or `evicted`). New keys
//!   start unseen, so a flood of one-time keys replaces itself rather than the clients
//!   that keep coming back. Exact LRU needs a linked list, whose neighbour updates cost
//!   two cache misses per request on a large table.
//! - A key whose bucket is full again (`tat <= now`) is indistinguishable from an absent
//!   key, so it is deleted by an incremental sweep: every operation inspects a couple of
//!   slots at a moving cursor, and [`RateLimiter::sweep`] lets an idle owner continue in
//!   bounded steps. Sweeping never changes a decision.
//! - Keys are hashed once to 64 bits with a per-limiter random seed; only the hash is
//!   stored, so a key's length never costs memory. Two keys colliding on all 64 bits
//!   would share a bucket (about 3e-8 for a million keys).
//!
//! # Limits of the numbers
//! `limit`, `burst` and costs are at most [`MAX_LIMIT`]; `windowMs` is at most
//! [`MAX_WINDOW_MS`] (the `setTimeout` maximum, about 24.8 days). With these bounds the
//! 64-bit time arithmetic cannot overflow during 58 years of process uptime. Penalties
//! can push a key's `tat` arbitrarily far ahead, so they saturate at [`MAX_AHEAD`] units
//! ahead of now: every later sum (`ahead + interval`, `tat + cost·interval`) then stays
//! far below 2^64, and `penalty`, `check`, `retryAfterMs` and `resetMs` keep agreeing
//! (a saturated key stays limited for 2^62 units: at least 14 years at the finest scale).
//!
//! # Threads
//! [`RateLimiter`] is `Send + Sync`; every method takes `&self` and holds one uncontended
//! mutex for a few dozen nanoseconds, so tokio tasks can share it through an `Arc`.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::core::clock::{CoarseClock, SharedClock};

/// Largest `limit`, `burst`, cost, penalty or reward.
pub const MAX_LIMIT: u64 = 10_000_000;
/// Largest window: 2^31 - 1 ms (about 24.8 days), the largest `setTimeout` delay.
pub const MAX_WINDOW_MS: u64 = 2_147_483_647;
/// Furthest a key's `tat` may run ahead of now, in time units (2^62): room for any cost
/// times any interval (< 2^55) on top without overflowing 64 bits.
pub const MAX_AHEAD: u64 = 1 << 62;
/// Largest `max_keys`.
pub const MAX_KEYS: usize = 100_000_000;
/// Default `max_keys`.
pub const DEFAULT_MAX_KEYS: usize = 100_000;
/// Slots inspected by the sweep on every operation.
pub const DEFAULT_SWEEP_PER_OP: usize = 2;

/// Options of a [`RateLimiter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Requests allowed per window (the refill rate is `limit / window_ms`).
    pub limit: u64,
    /// Window length in milliseconds.
    pub window_ms: u64,
    /// Bucket size: requests that may arrive at once. Defaults to `limit`.
    pub burst: u64,
    /// Most keys held at once.
    pub max_keys: usize,
    /// Group IPv6 keys by this prefix length (1-128); IPv4 and IPv4-mapped keys by address.
    pub ipv6_prefix: Option<u8>,
    /// Slots the incremental sweep inspects per operation (0 disables it).
    pub sweep_per_op: usize,
}

impl RateLimitConfig {
    /// `limit` per `window_ms`, burst = limit, default bounds.
    pub fn new(limit: u64, window_ms: u64) -> Self {
        Self {
            limit,
            window_ms,
            burst: limit,
            max_keys: DEFAULT_MAX_KEYS,
            ipv6_prefix: None,
            sweep_per_op: DEFAULT_SWEEP_PER_OP,
        }
    }

    /// Checks every bound; the error names the offending option.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.limit == 0 || self.limit > MAX_LIMIT {
            return Err(ConfigError::Limit);
        }
        if self.window_ms == 0 || self.window_ms > MAX_WINDOW_MS {
            return Err(ConfigError::Window);
        }
        if self.burst == 0 || self.burst > MAX_LIMIT {
            return Err(ConfigError::Burst);
        }
        if self.max_keys == 0 || self.max_keys > MAX_KEYS {
            return Err(ConfigError::MaxKeys);
        }
        if matches!(self.ipv6_prefix, Some(p) if p == 0 || p > 128) {
            return Err(ConfigError::Ipv6Prefix);
        }
        Ok(())
    }
}

/// An option out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    Limit,
    Window,
    Burst,
    MaxKeys,
    Ipv6Prefix,
}

impl ConfigError {
    /// The `ERR_QERRORS_*` code JS sees.
    pub fn code(self) -> &'static str {
        match self {
            Self::Limit => "ERR_QERRORS_INVALID_LIMIT",
            Self::Window => "ERR_QERRORS_INVALID_WINDOW",
            Self::Burst => "ERR_QERRORS_INVALID_BURST",
            Self::MaxKeys => "ERR_QERRORS_INVALID_MAX_KEYS",
            Self::Ipv6Prefix => "ERR_QERRORS_INVALID_IPV6_SUBNET",
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Limit => write!(f, "limit must be an integer from 1 to {MAX_LIMIT}"),
            Self::Window => write!(
                f,
                "windowMs must be an integer from 1 to {MAX_WINDOW_MS} (about 24.8 days)"
            ),
            Self::Burst => write!(f, "burst must be an integer from 1 to {MAX_LIMIT}"),
            Self::MaxKeys => write!(f, "maxKeys must be an integer from 1 to {MAX_KEYS}"),
            Self::Ipv6Prefix => write!(f, "ipv6Subnet must be an integer from 1 to 128"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Counters since creation (`keys` is the current table size).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub keys: u64,
    pub allowed: u64,
    pub limited: u64,
    pub evicted: u64,
    pub swept: u64,
}

/// Where a key stands, without changing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyState {
    /// Requests of cost 1 that would be allowed now (0 when limited).
    pub remaining: u64,
    /// Milliseconds until one request is allowed (0 if one is allowed now).
    pub retry_after_ms: u64,
    /// Milliseconds until the bucket is full again.
    pub reset_ms: u64,
    /// Whether the table holds state for the key.
    pub present: bool,
}

/// Passes an already-mixed 64-bit hash through unchanged.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8)) ^ u64::from(*b);
        }
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

const P0: u64 = 0xa076_1d64_78bd_642f;
const P1: u64 = 0xe703_7ed1_a0b4_28db;
const P2: u64 = 0x8ebc_6af0_9c88_c6e3;
const P3: u64 = 0x5899_65cc_7537_4cc3;

#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Seeded 64-bit hash of a byte string (folded multiplies, 8 bytes per step). The seed
/// is random per limiter, so keys chosen by clients cannot be aimed at one bucket.
///
/// The tail is read with (possibly overlapping) fixed-size loads rather than copied into
/// a zeroed word: a variable-length copy followed by a wide load stalls on store
/// forwarding, which profiled as a fifth of a whole check. The length is mixed in first,
/// so overlapping reads cannot make two keys of different lengths alike.
#[inline]
fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let len = bytes.len();
    let mut h = seed ^ (len as u64).wrapping_mul(P0);
    let tail = if len <= 8 {
        if len >= 4 {
            (u64::from(read_u32(&bytes[..4])) << 32) | u64::from(read_u32(&bytes[len - 4..]))
        } else if len > 0 {
            (u64::from(bytes[0]) << 16)
                | (u64::from(bytes[len / 2]) << 8)
                | u64::from(bytes[len - 1])
        } else {
            0
        }
    } else {
        let mut chunks = bytes[..len - 1].chunks_exact(8);
        for c in &mut chunks {
            h = fold_mul(h ^ read_u64(c), P1);
        }
        // The last 1-8 bytes, read as the final 8 bytes of the key.
        read_u64(&bytes[len - 8..])
    };
    h = fold_mul(h ^ tail ^ P2, P1);
    fold_mul(h ^ seed.rotate_left(29), P3)
}

#[inline]
fn read_u64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

#[inline]
fn read_u32(b: &[u8]) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[..4]);
    u32::from_le_bytes(w)
}

/// The address a key groups to when `ipv6_prefix` is set: `(family tag, masked bits)`.
fn ip_group(key: &[u8], prefix: u8) -> Option<(u64, u128)> {
    // The longest textual IPv6 address, with an embedded IPv4 tail, has 45 characters.
    if key.len() > 45 || key.is_empty() {
        return None;
    }
    let text = std::str::from_utf8(key).ok()?;
    if !text.contains(':') {
        let v4: Ipv4Addr = text.parse().ok()?;
        return Some((4, u128::from(u32::from(v4))));
    }
    let v6: Ipv6Addr = text.parse().ok()?;
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some((4, u128::from(u32::from(v4))));
    }
    let mask = if prefix >= 128 {
        u128::MAX
    } else {
        !(u128::MAX >> prefix)
    };
    Some((6, u128::from(v6) & mask))
}

/// One key: its hash, its theoretical arrival time, and whether it was seen since the
/// eviction hand last passed it.
#[derive(Debug, Clone, Copy)]
struct Slot {
    key: u64,
    tat: u64,
    seen: bool,
}

/// Dense slots and a hash index into them. Removal swaps the last slot into the hole, so
/// slots stay dense and both cursors (sweep and eviction hand) walk memory in order.
///
/// Recency is one flag per slot (CLOCK, "second chance") rather than a linked list: on a
/// large table a list costs two extra cache misses per request (the neighbours), which
/// measured as the main cost of a check. The flag lives in the slot the decision reads
/// anyway.
struct Table {
    index: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
    slots: Vec<Slot>,
    /// Next slot the incremental sweep inspects.
    cursor: usize,
    /// Next slot the eviction hand inspects.
    hand: usize,
    stats: Stats,
}

impl Table {
    fn new() -> Self {
        Self {
            index: HashMap::default(),
            slots: Vec::new(),
            cursor: 0,
            hand: 0,
            stats: Stats::default(),
        }
    }

    #[inline]
    fn find(&self, key: u64) -> Option<u32> {
        self.index.get(&key).copied()
    }

    #[inline]
    fn touch(&mut self, i: u32) {
        self.slots[i as usize].seen = true;
    }

    fn remove(&mut self, i: u32) {
        let key = self.slots[i as usize].key;
        self.index.remove(&key);
        self.slots.swap_remove(i as usize);
        if let Some(moved) = self.slots.get(i as usize) {
            // The former last slot now lives at `i`.
            self.index.insert(moved.key, i);
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
    fn insert(&mut self, key: u64, tat: u64, max_keys: usize, now: u64) -> u32 {
        if self.slots.len() >= max_keys && !self.slots.is_empty() {
            self.evict_one(now);
        }
        let i = self.slots.len() as u32;
        // A new key starts unseen: it earns its second chance by coming back, so a flood
        // of one-time keys replaces itself instead of flushing the established clients.
        self.slots.push(Slot {
            key,
            tat,
            seen: false,
        });
        self.index.insert(key, i);
        i
    }

    /// Inspects up to `steps` slots at the cursor, deleting refilled keys.
    fn sweep(&mut self, steps: usize, now: u64) -> usize {
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
            self.index.shrink_to(len * 2);
        }
    }

    fn clear(&mut self) {
        self.index = HashMap::default();
        self.slots = Vec::new();
        self.cursor = 0;
        self.hand = 0;
    }
}

/// A keyed GCRA rate limiter. See the module documentation.
pub struct RateLimiter {
    config: RateLimitConfig,
    /// Time units per millisecond.
    scale: u64,
    /// Emission interval in time units.
    interval: u64,
    /// `burst · interval`: how far `tat` may run ahead of now.
    tolerance: u64,
    seed: u64,
    epoch_ms: u64,
    clock: SharedClock,
    table: Mutex<Table>,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn random_seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64)
}

impl RateLimiter {
    /// A limiter reading `clock`; fails when an option is out of range.
    pub fn new(config: RateLimitConfig, clock: SharedClock) -> Result<Self, ConfigError> {
        config.validate()?;
        let g = gcd(config.limit, config.window_ms);
        let scale = config.limit / g;
        let interval = config.window_ms / g;
        let epoch_ms = clock.now_ms();
        Ok(Self {
            tolerance: config.burst * interval,
            config,
            scale,
            interval,
            seed: random_seed(),
            epoch_ms,
            clock,
            table: Mutex::new(Table::new()),
        })
    }

    /// A limiter on the coarse monotonic clock.
    pub fn with_coarse_clock(config: RateLimitConfig) -> Result<Self, ConfigError> {
        Self::new(config, Arc::new(CoarseClock::new()))
    }

    pub fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    /// The 64-bit identity of a key (after IPv6 grouping when configured).
    #[inline]
    pub fn key_hash(&self, key: &[u8]) -> u64 {
        if let Some(prefix) = self.config.ipv6_prefix {
            if let Some((tag, bits)) = ip_group(key, prefix) {
                // A leading 0xff byte never starts valid UTF-8, so a grouped address
                // cannot collide with a plain string key made of the same bytes.
                let mut tagged = [0u8; 18];
                tagged[0] = 0xff;
                tagged[1] = tag as u8;
                tagged[2..].copy_from_slice(&bits.to_le_bytes());
                return hash_bytes(self.seed, &tagged);
            }
        }
        hash_bytes(self.seed, key)
    }

    #[inline]
    fn lock(&self) -> MutexGuard<'_, Table> {
        // Nothing panics while the lock is held; if it ever did, the table is still
        // structurally valid, so keep serving rather than failing every later call.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Current time in units since the limiter's epoch.
    #[inline]
    fn now_units(&self) -> u64 {
        self.clock
            .now_ms()
            .saturating_sub(self.epoch_ms)
            .saturating_mul(self.scale)
    }

    #[inline]
    fn units_to_ms_ceil(&self, units: u64) -> u64 {
        units.div_ceil(self.scale)
    }

    /// Allows or denies one request of cost 1. Returns the remaining requests, or -1.
    #[inline]
    pub fn check(&self, key: &[u8]) -> i64 {
        self.consume_hashed(self.key_hash(key), 1)
    }

    /// Allows or denies a request of weight `cost` (0 only reads). Remaining or -1.
    #[inline]
    pub fn consume(&self, key: &[u8], cost: u64) -> i64 {
        self.consume_hashed(self.key_hash(key), cost)
    }

    /// [`consume`](Self::consume) for a key already hashed with [`key_hash`](Self::key_hash).
    pub fn consume_hashed(&self, key: u64, cost: u64) -> i64 {
        let now = self.now_units();
        let mut t = self.lock();
        let r = self.decide(&mut t, key, cost, now);
        t.sweep(self.config.sweep_per_op, now);
        r
    }

    #[inline]
    fn decide(&self, t: &mut Table, key: u64, cost: u64, now: u64) -> i64 {
        let cost = cost.min(MAX_LIMIT + 1);
        let slot = t.find(key);
        let tat = slot.map_or(now, |i| t.slots[i as usize].tat).max(now);
        let new_tat = tat.saturating_add(cost * self.interval);
        if new_tat - now > self.tolerance {
            t.stats.limited += 1;
            if let Some(i) = slot {
                t.touch(i);
            }
            return -1;
        }
        t.stats.allowed += 1;
        match slot {
            Some(i) => {
                t.slots[i as usize].tat = new_tat;
                t.touch(i);
            }
            None if cost > 0 => {
                t.insert(key, new_tat, self.config.max_keys, now);
            }
            None => {}
        }
        ((self.tolerance - (new_tat - now)) / self.interval) as i64
    }

    /// Checks `\n`-separated keys (a trailing newline ends the last key), writing each
    /// result to `out` in order, under one lock and one clock reading. Returns how many
    /// keys there were; keys beyond `out.len()` are neither checked nor counted.
    pub fn check_batch(&self, keys: &[u8], out: &mut [i32]) -> usize {
        let now = self.now_units();
        let mut t = self.lock();
        let mut n = 0;
        for key in split_keys(keys) {
            if n == out.len() {
                break;
            }
            let h = self.key_hash(key);
            out[n] = self.decide(&mut t, h, 1, now) as i32;
            n += 1;
        }
        t.sweep(self.config.sweep_per_op * n.min(64), now);
        n
    }

    /// Where `key` stands now, without consuming or touching it.
    pub fn state(&self, key: &[u8]) -> KeyState {
        self.state_hashed(self.key_hash(key))
    }

    pub fn state_hashed(&self, key: u64) -> KeyState {
        let now = self.now_units();
        let t = self.lock();
        let (tat, present) = match t.find(key) {
            Some(i) => (t.slots[i as usize].tat.max(now), true),
            None => (now, false),
        };
        let ahead = tat - now;
        let room = self.tolerance.saturating_sub(ahead);
        // One more request fits once `ahead + interval <= tolerance`.
        let retry = (ahead + self.interval).saturating_sub(self.tolerance);
        KeyState {
            remaining: room / self.interval,
            retry_after_ms: self.units_to_ms_ceil(retry),
            reset_ms: self.units_to_ms_ceil(ahead),
            present,
        }
    }

    /// Milliseconds until `key` may make one request (0 = now).
    pub fn retry_after_ms(&self, key: &[u8]) -> u64 {
        self.state(key).retry_after_ms
    }

    /// Milliseconds until `key`'s bucket is full again (0 = it is full).
    pub fn reset_ms(&self, key: &[u8]) -> u64 {
        self.state(key).reset_ms
    }

    /// Takes `n` requests' worth from `key` without a decision (it may go below zero, so
    /// the key waits longer). Returns the remaining requests, or -1 when now limited.
    pub fn penalty(&self, key: &[u8], n: u64) -> i64 {
        let key = self.key_hash(key);
        let now = self.now_units();
        let mut t = self.lock();
        let add = n.min(MAX_LIMIT) * self.interval;
        let cap = now.saturating_add(MAX_AHEAD);
        let tat = match t.find(key) {
            Some(i) => {
                let s = &mut t.slots[i as usize];
                s.tat = s.tat.max(now).saturating_add(add).min(cap);
                let tat = s.tat;
                t.touch(i);
                tat
            }
            None if n > 0 => {
                let tat = now.saturating_add(add).min(cap);
                t.insert(key, tat, self.config.max_keys, now);
                tat
            }
            None => now,
        };
        self.remaining_at(tat, now)
    }

    /// Gives `n` requests' worth back to `key` (never above a full bucket). Returns the
    /// remaining requests, or -1 when still limited.
    pub fn reward(&self, key: &[u8], n: u64) -> i64 {
        let key = self.key_hash(key);
        let now = self.now_units();
        let mut t = self.lock();
        let sub = n.min(MAX_LIMIT) * self.interval;
        let tat = match t.find(key) {
            Some(i) => {
                let s = &mut t.slots[i as usize];
                s.tat = s.tat.saturating_sub(sub).max(now);
                let tat = s.tat;
                t.touch(i);
                tat
            }
            None => now,
        };
        self.remaining_at(tat, now)
    }

    #[inline]
    fn remaining_at(&self, tat: u64, now: u64) -> i64 {
        let ahead = tat.max(now) - now;
        if ahead + self.interval > self.tolerance {
            -1
        } else {
            ((self.tolerance - ahead) / self.interval) as i64
        }
    }

    /// Forgets `key` (its bucket is full again). Returns whether it was held.
    pub fn reset(&self, key: &[u8]) -> bool {
        let key = self.key_hash(key);
        let mut t = self.lock();
        match t.find(key) {
            Some(i) => {
                t.remove(i);
                true
            }
            None => false,
        }
    }

    /// Forgets every key and releases the table's memory. Counters are kept.
    pub fn reset_all(&self) {
        self.lock().clear();
    }

    /// Inspects up to `steps` slots, deleting keys whose bucket is full again. For owners
    /// that call it from an idle timer; the work per call is bounded by `steps`.
    pub fn sweep(&self, steps: usize) -> usize {
        let now = self.now_units();
        self.lock().sweep(steps, now)
    }

    pub fn stats(&self) -> Stats {
        let t = self.lock();
        Stats {
            keys: t.slots.len() as u64,
            ..t.stats
        }
    }

    /// Bytes the table holds on the heap (slots and index), for memory reports.
    pub fn heap_bytes(&self) -> usize {
        let t = self.lock();
        t.slots.capacity() * std::mem::size_of::<Slot>()
            + t.index.capacity() * (std::mem::size_of::<(u64, u32)>() + 1)
    }
}

/// Splits a batch on `\n`; a trailing newline does not start an extra (empty) key.
pub fn split_keys(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = buf.strip_suffix(b"\n").unwrap_or(buf);
    let empty = buf.is_empty();
    body.split(|b| *b == b'\n').filter(move |_| !empty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::FakeClock;
    use proptest::prelude::*;

    fn limiter(cfg: RateLimitConfig) -> (RateLimiter, Arc<FakeClock>) {
        let clock = Arc::new(FakeClock::new(1_000));
        let rl = RateLimiter::new(cfg, clock.clone()).expect("valid config");
        (rl, clock)
    }

    #[test]
    fn allows_limit_then_denies_then_refills_smoothly() {
        let (rl, clock) = limiter(RateLimitConfig::new(3, 3_000));
        assert_eq!(rl.check(b"a"), 2);
        assert_eq!(rl.check(b"a"), 1);
        assert_eq!(rl.check(b"a"), 0);
        assert_eq!(rl.check(b"a"), -1);
        assert_eq!(rl.retry_after_ms(b"a"), 1_000);
        assert_eq!(rl.reset_ms(b"a"), 3_000);
        clock.advance(999);
        assert_eq!(rl.check(b"a"), -1);
        clock.advance(1);
        assert_eq!(rl.check(b"a"), 0);
        assert_eq!(rl.check(b"b"), 2, "keys are independent");
        let s = rl.stats();
        assert_eq!((s.keys, s.allowed, s.limited), (2, 5, 2));
    }

    #[test]
    fn fractional_intervals_are_exact() {
        // 7 per second: T = 1000/7 ms, never rounded.
        let (rl, clock) = limiter(RateLimitConfig::new(7, 1_000));
        for _ in 0..7 {
            assert!(rl.check(b"k") >= 0);
        }
        assert_eq!(rl.check(b"k"), -1);
        assert_eq!(rl.retry_after_ms(b"k"), 143); // ceil(1000/7)
        clock.advance(1_000);
        for _ in 0..7 {
            assert!(rl.check(b"k") >= 0);
        }
        assert_eq!(rl.check(b"k"), -1);
    }

    #[test]
    fn burst_differs_from_limit() {
        let mut cfg = RateLimitConfig::new(10, 10_000);
        cfg.burst = 2;
        let (rl, clock) = limiter(cfg);
        assert_eq!(rl.check(b"k"), 1);
        assert_eq!(rl.check(b"k"), 0);
        assert_eq!(rl.check(b"k"), -1);
        clock.advance(1_000);
        assert_eq!(rl.check(b"k"), 0);
    }

    #[test]
    fn weighted_consume_penalty_reward_reset() {
        let (rl, clock) = limiter(RateLimitConfig::new(10, 10_000));
        assert_eq!(rl.consume(b"k", 4), 6);
        assert_eq!(rl.consume(b"k", 7), -1, "a denied request takes nothing");
        assert_eq!(rl.consume(b"k", 0), 6, "cost 0 reads");
        assert_eq!(rl.consume(b"k", 11), -1, "more than the burst never fits");
        assert_eq!(rl.penalty(b"k", 10), -1);
        assert_eq!(rl.retry_after_ms(b"k"), 5_000);
        assert_eq!(rl.reward(b"k", 5), 1);
        assert_eq!(rl.reward(b"k", 100), 10, "never above a full bucket");
        assert_eq!(rl.penalty(b"new", 3), 7, "a penalty creates the key");
        assert!(rl.reset(b"new"));
        assert!(!rl.reset(b"new"));
        assert_eq!(rl.check(b"new"), 9);
        clock.advance(20_000);
        assert_eq!(rl.state(b"k").reset_ms, 0);
        assert_eq!(rl.reward(b"absent", 3), 10);
        assert_eq!(rl.consume(b"absent", 0), 10);
        assert!(
            !rl.state(b"absent").present,
            "reads and rewards create no key"
        );
    }

    #[test]
    fn bounded_with_second_chance_eviction() {
        let mut cfg = RateLimitConfig::new(5, 60_000);
        cfg.max_keys = 3;
        cfg.sweep_per_op = 0;
        let (rl, _clock) = limiter(cfg);
        rl.check(b"a");
        rl.check(b"b");
        rl.check(b"c");
        rl.check(b"a"); // a came back: it has a second chance
        rl.check(b"d");
        let s = rl.stats();
        assert_eq!((s.keys, s.evicted), (3, 1));
        assert!(!rl.state(b"b").present, "b was evicted");
        assert!(rl.state(b"a").present && rl.state(b"c").present);
        assert_eq!(rl.check(b"a"), 2);
        // A flood of one-time keys replaces itself; the returning clients stay.
        rl.check(b"c");
        rl.check(b"a");
        for i in 0..1_000u32 {
            rl.check(&i.to_le_bytes());
        }
        assert!(rl.state(b"a").present && rl.state(b"c").present);
        assert_eq!(rl.stats().keys, 3);
        assert_eq!(rl.stats().evicted, 1_001);
    }

    #[test]
    fn sweep_deletes_only_refilled_keys_and_shrinks() {
        let (rl, clock) = limiter(RateLimitConfig::new(2, 1_000));
        for i in 0..5_000u32 {
            rl.check(&i.to_le_bytes());
        }
        rl.check(b"hot");
        rl.check(b"hot");
        let grown = rl.heap_bytes();
        clock.advance(600);
        rl.check(b"hot"); // hot stays busy
                          // The check above already swept a couple of keys in passing.
        assert!(rl.sweep(100_000) >= 4_990);
        assert_eq!(rl.stats().keys, 1);
        assert_eq!(rl.stats().swept, 5_000);
        assert!(rl.heap_bytes() < grown / 8, "memory returned");
        assert_eq!(rl.check(b"hot"), -1, "the busy key kept its state");
    }

    #[test]
    fn batch_matches_single_checks() {
        let (rl, _c) = limiter(RateLimitConfig::new(2, 60_000));
        let mut out = [9i32; 6];
        assert_eq!(rl.check_batch(b"a\nb\na\na\n\n", &mut out), 5);
        assert_eq!(out, [1, 1, 0, -1, 1, 9]);
        assert_eq!(rl.check(b""), 0, "the empty key was checked once");
        let mut small = [0i32; 1];
        assert_eq!(rl.check_batch(b"x\ny", &mut small), 1);
        assert_eq!(rl.check_batch(b"", &mut out), 0);
    }

    #[test]
    fn ipv6_grouping() {
        let mut cfg = RateLimitConfig::new(2, 60_000);
        cfg.ipv6_prefix = Some(64);
        let (rl, _c) = limiter(cfg);
        assert_eq!(rl.check(b"2001:db8:1:2:aaaa::1"), 1);
        assert_eq!(rl.check(b"2001:db8:1:2:bbbb:cccc:dddd:eeee"), 0);
        assert_eq!(rl.check(b"2001:db8:1:3::1"), 1, "another /64");
        assert_eq!(rl.check(b"1.2.3.4"), 1);
        assert_eq!(
            rl.check(b"::ffff:1.2.3.4"),
            0,
            "mapped IPv4 is the IPv4 key"
        );
        assert_eq!(rl.check(b"not-an-ip"), 1);
        let (plain, _c) = limiter(RateLimitConfig::new(2, 60_000));
        assert_eq!(plain.check(b"2001:db8:1:2:aaaa::1"), 1);
        assert_eq!(
            plain.check(b"2001:db8:1:2:bbbb::1"),
            1,
            "no grouping by default"
        );
    }

    #[test]
    fn hash_separates_lengths_and_every_byte() {
        let mut seen = std::collections::HashSet::new();
        let base: Vec<u8> = (0u8..40).collect();
        for len in 0..=40 {
            assert!(seen.insert(hash_bytes(7, &base[..len])), "length {len}");
            for i in 0..len {
                let mut k = base[..len].to_vec();
                k[i] ^= 0x80;
                assert!(seen.insert(hash_bytes(7, &k)), "length {len}, byte {i}");
            }
        }
        assert_ne!(hash_bytes(1, b"key"), hash_bytes(2, b"key"), "seeded");
    }

    #[test]
    fn long_keys_are_hashed_whole() {
        let (rl, _c) = limiter(RateLimitConfig::new(1, 60_000));
        let a = vec![b'x'; 10_000];
        let mut b = a.clone();
        b[9_999] = b'y';
        assert_eq!(rl.check(&a), 0);
        assert_eq!(rl.check(&b), 0);
        assert_eq!(rl.check(&a), -1);
    }

    #[test]
    fn config_bounds() {
        let ok = RateLimitConfig::new(1, 1);
        assert!(ok.validate().is_ok());
        let bad = |f: fn(&mut RateLimitConfig)| {
            let mut c = RateLimitConfig::new(10, 1_000);
            f(&mut c);
            c.validate().err()
        };
        assert_eq!(bad(|c| c.limit = 0), Some(ConfigError::Limit));
        assert_eq!(bad(|c| c.limit = MAX_LIMIT + 1), Some(ConfigError::Limit));
        assert_eq!(
            bad(|c| c.window_ms = MAX_WINDOW_MS + 1),
            Some(ConfigError::Window)
        );
        assert_eq!(bad(|c| c.window_ms = 0), Some(ConfigError::Window));
        assert_eq!(bad(|c| c.burst = 0), Some(ConfigError::Burst));
        assert_eq!(bad(|c| c.max_keys = 0), Some(ConfigError::MaxKeys));
        assert_eq!(
            bad(|c| c.ipv6_prefix = Some(129)),
            Some(ConfigError::Ipv6Prefix)
        );
        assert!(ConfigError::Window.to_string().contains("24.8 days"));
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let mut cfg = RateLimitConfig::new(MAX_LIMIT, MAX_WINDOW_MS);
        cfg.burst = MAX_LIMIT;
        let (rl, clock) = limiter(cfg);
        assert_eq!(rl.consume(b"k", MAX_LIMIT), 0);
        for _ in 0..1_000 {
            rl.penalty(b"k", MAX_LIMIT);
        }
        assert_eq!(rl.check(b"k"), -1);
        clock.advance(u64::MAX / 4);
        assert!(rl.retry_after_ms(b"k") < u64::MAX);
        let (r, _c) = limiter(RateLimitConfig::new(1, 1));
        assert_eq!(r.consume(b"k", u64::MAX), -1);
    }

    #[test]
    fn shared_across_threads() {
        let rl = Arc::new(
            RateLimiter::with_coarse_clock(RateLimitConfig::new(1_000, 3_600_000)).expect("valid"),
        );
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let rl = rl.clone();
                std::thread::spawn(move || (0..500).filter(|_| rl.check(b"shared") >= 0).count())
            })
            .collect();
        let allowed: usize = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
        assert_eq!(allowed, 1_000);
        assert_eq!(rl.stats().limited, 1_000);
    }

    /// A deliberately plain model: a token bucket per key with exact rationals (tokens
    /// measured in units of `1 / interval` tokens). Which key a full table evicts is the
    /// limiter's policy; the model forgets the same keys, so decisions stay comparable.
    struct Model {
        interval: i128,
        tolerance: i128,
        scale: i128,
        /// (key, tokens in units, last refill time in units).
        keys: Vec<(u8, i128, i128)>,
    }

    impl Model {
        fn refill(&mut self, pos: usize, now: i128) -> i128 {
            let (_, tokens, last) = self.keys[pos];
            let t = (tokens + (now - last).max(0)).min(self.tolerance);
            self.keys[pos].1 = t;
            self.keys[pos].2 = now.max(last);
            t
        }
        fn pos(&self, k: u8) -> Option<usize> {
            self.keys.iter().position(|e| e.0 == k)
        }
        fn add(&mut self, k: u8, tokens: i128, now: i128) {
            self.keys.push((k, tokens, now));
        }
        fn remaining(&self, tokens: i128) -> i64 {
            if tokens < self.interval {
                -1
            } else {
                (tokens / self.interval) as i64
            }
        }
        fn consume(&mut self, k: u8, cost: u64, now: i128) -> i64 {
            let need = cost as i128 * self.interval;
            match self.pos(k) {
                Some(p) => {
                    let t = self.refill(p, now);
                    if t < need {
                        return -1;
                    }
                    self.keys[p].1 = t - need;
                    ((t - need) / self.interval) as i64
                }
                None => {
                    if self.tolerance < need {
                        return -1;
                    }
                    if cost > 0 {
                        self.add(k, self.tolerance - need, now);
                    }
                    ((self.tolerance - need) / self.interval) as i64
                }
            }
        }
        fn tokens(&mut self, k: u8, now: i128) -> i128 {
            match self.pos(k) {
                Some(p) => self.refill(p, now),
                None => self.tolerance,
            }
        }
        fn penalty(&mut self, k: u8, n: u64, now: i128) -> i64 {
            let take = n as i128 * self.interval;
            match self.pos(k) {
                Some(p) => {
                    let t = self.refill(p, now) - take;
                    self.keys[p].1 = t;
                    self.remaining(t)
                }
                None => {
                    let t = self.tolerance - take;
                    if n > 0 {
                        self.add(k, t, now);
                    }
                    self.remaining(t)
                }
            }
        }
        fn reward(&mut self, k: u8, n: u64, now: i128) -> i64 {
            let give = n as i128 * self.interval;
            match self.pos(k) {
                Some(p) => {
                    let t = (self.refill(p, now) + give).min(self.tolerance);
                    self.keys[p].1 = t;
                    self.remaining(t)
                }
                None => self.remaining(self.tolerance),
            }
        }
        fn ms(&self, units: i128) -> u64 {
            ((units.max(0) + self.scale - 1) / self.scale) as u64
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Consume(u8, u64),
        Penalty(u8, u64),
        Reward(u8, u64),
        Reset(u8),
        Advance(u64),
        Query(u8),
        Sweep(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u8..8, 0u64..4).prop_map(|(k, c)| Op::Consume(k, c)),
            1 => (0u8..8, 0u64..4).prop_map(|(k, n)| Op::Penalty(k, n)),
            1 => (0u8..8, 0u64..4).prop_map(|(k, n)| Op::Reward(k, n)),
            1 => (0u8..8).prop_map(Op::Reset),
            3 => (0u64..1_500).prop_map(Op::Advance),
            2 => (0u8..8).prop_map(Op::Query),
            1 => (0usize..6).prop_map(Op::Sweep),
        ]
    }

    fn run_against_model(
        limit: u64,
        window_ms: u64,
        burst: u64,
        max_keys: usize,
        sweep_per_op: usize,
        ops: &[Op],
    ) -> Result<(), TestCaseError> {
        let mut cfg = RateLimitConfig::new(limit, window_ms);
        cfg.burst = burst;
        cfg.max_keys = max_keys;
        cfg.sweep_per_op = sweep_per_op;
        let (rl, clock) = limiter(cfg);
        let g = gcd(limit, window_ms);
        let scale = (limit / g) as i128;
        let interval = (window_ms / g) as i128;
        let mut m = Model {
            interval,
            tolerance: burst as i128 * interval,
            scale,
            keys: Vec::new(),
        };
        let mut now_ms: u64 = 0;
        let mut evicted_before = 0;
        for (step, op) in ops.iter().enumerate() {
            let now = now_ms as i128 * scale;
            match *op {
                Op::Consume(k, c) => {
                    prop_assert_eq!(rl.consume(&[k], c), m.consume(k, c, now), "step {}", step)
                }
                Op::Penalty(k, n) => {
                    prop_assert_eq!(rl.penalty(&[k], n), m.penalty(k, n, now), "step {}", step)
                }
                Op::Reward(k, n) => {
                    prop_assert_eq!(rl.reward(&[k], n), m.reward(k, n, now), "step {}", step)
                }
                Op::Reset(k) => {
                    rl.reset(&[k]);
                    if let Some(p) = m.pos(k) {
                        m.keys.remove(p);
                    }
                }
                Op::Advance(ms) => {
                    clock.advance(ms);
                    now_ms += ms;
                }
                Op::Query(k) => {
                    let s = rl.state(&[k]);
                    let tokens = m.tokens(k, now);
                    prop_assert_eq!(s.remaining as i64, (tokens.max(0) / interval) as i64);
                    prop_assert_eq!(s.reset_ms, m.ms(m.tolerance - tokens), "step {}", step);
                    prop_assert_eq!(s.retry_after_ms, m.ms(interval - tokens), "step {}", step);
                }
                Op::Sweep(n) => {
                    rl.sweep(n);
                }
            }
            let stats = rl.stats();
            prop_assert!(stats.keys as usize <= max_keys);
            // Mirror the keys the limiter let go of. A refilled key is the same as an
            // absent one; forgetting a key that still had state must be a counted eviction.
            let mut forgotten_with_state = 0;
            let mut p = 0;
            while p < m.keys.len() {
                let k = m.keys[p].0;
                if rl.state(&[k]).present {
                    p += 1;
                    continue;
                }
                if m.refill(p, now_ms as i128 * scale) < m.tolerance {
                    forgotten_with_state += 1;
                }
                m.keys.remove(p);
            }
            prop_assert!(
                forgotten_with_state <= stats.evicted - evicted_before,
                "step {}",
                step
            );
            evicted_before = stats.evicted;
            if max_keys >= 8 {
                prop_assert_eq!(stats.evicted, 0);
            }
        }
        Ok(())
    }

    /// What `penalty(k, 0)`, `state`, `retry_after_ms`, `reset_ms` and then `check` say
    /// about one key must tell the same story; `check` runs last since it consumes.
    fn assert_agree(rl: &RateLimiter, key: &[u8], ctx: &str) -> Result<(), TestCaseError> {
        let st = rl.state(key);
        let by_penalty = rl.penalty(key, 0);
        let retry = rl.retry_after_ms(key);
        let reset = rl.reset_ms(key);
        prop_assert_eq!(retry, st.retry_after_ms, "{}", ctx);
        prop_assert_eq!(reset, st.reset_ms, "{}", ctx);
        prop_assert!(retry <= reset, "retry {} > reset {}: {}", retry, reset, ctx);
        let allowed_now = st.remaining >= 1;
        prop_assert_eq!(by_penalty >= 1 || by_penalty == 0, allowed_now, "{}", ctx);
        if allowed_now {
            prop_assert_eq!(by_penalty as u64, st.remaining, "{}", ctx);
        }
        prop_assert_eq!(retry == 0, allowed_now, "retry {}: {}", retry, ctx);
        let checked = rl.check(key);
        prop_assert_eq!(checked >= 0, allowed_now, "check {}: {}", checked, ctx);
        Ok(())
    }

    #[test]
    fn penalty_overflow_saturates_and_every_answer_agrees() {
        // limit 1 per 2^31-1 ms and 859 penalties of 1e7 once wrapped the 64-bit time:
        // penalty() said 1 remained while check() refused and resetMs() was 1.8e19.
        let (rl, clock) = limiter(RateLimitConfig::new(1, MAX_WINDOW_MS));
        for _ in 0..859 {
            assert_eq!(rl.penalty(b"k", MAX_LIMIT), -1);
        }
        let st = rl.state(b"k");
        assert_eq!(st.remaining, 0);
        assert_eq!(
            st.reset_ms, MAX_AHEAD,
            "saturated at MAX_AHEAD units (scale 1)"
        );
        assert_eq!(
            st.retry_after_ms, MAX_AHEAD,
            "burst 1: the one request waits for it all"
        );
        assert_eq!(rl.check(b"k"), -1);
        assert_eq!(rl.retry_after_ms(b"k"), st.retry_after_ms);
        clock.advance(MAX_WINDOW_MS);
        assert_eq!(
            rl.reset_ms(b"k"),
            MAX_AHEAD - MAX_WINDOW_MS,
            "time still passes"
        );
        assert_eq!(rl.penalty(b"k", 1), -1);
        assert_eq!(
            rl.reset_ms(b"k"),
            MAX_AHEAD,
            "a later penalty saturates again"
        );
        assert_eq!(rl.reward(b"k", MAX_LIMIT), -1);
        assert_eq!(rl.check(b"k"), -1);
    }

    #[derive(Debug, Clone)]
    enum Hostile {
        /// `penalty(n)` repeated: overflow needs hundreds of the largest penalties.
        Penalty(u64, u32),
        Reward(u64),
        Consume(u64),
        Advance(u64),
    }

    fn hostile_op() -> impl Strategy<Value = Hostile> {
        let big = prop_oneof![0u64..4, Just(MAX_LIMIT), (0u64..=MAX_LIMIT)];
        prop_oneof![
            4 => (big.clone(), prop_oneof![Just(1u32), 1u32..2_000])
                .prop_map(|(n, times)| Hostile::Penalty(n, times)),
            1 => big.clone().prop_map(Hostile::Reward),
            2 => big.prop_map(Hostile::Consume),
            1 => prop_oneof![0u64..10, Just(MAX_WINDOW_MS), 0u64..=u64::from(u32::MAX)]
                .prop_map(Hostile::Advance),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Extreme options and penalties: after every operation the limiter's answers about
        /// the key agree with each other (the arithmetic saturates, never wraps).
        #[test]
        fn answers_agree_under_extreme_penalties(
            limit in prop_oneof![Just(1u64), Just(MAX_LIMIT), 1u64..=MAX_LIMIT],
            window_ms in prop_oneof![Just(1u64), Just(MAX_WINDOW_MS), 1u64..=MAX_WINDOW_MS],
            burst in prop_oneof![Just(1u64), Just(MAX_LIMIT), 1u64..=MAX_LIMIT],
            ops in proptest::collection::vec(hostile_op(), 1..200),
        ) {
            let mut cfg = RateLimitConfig::new(limit, window_ms);
            cfg.burst = burst;
            let (rl, clock) = limiter(cfg);
            for (step, op) in ops.iter().enumerate() {
                match *op {
                    Hostile::Penalty(n, times) => {
                        for _ in 0..times {
                            rl.penalty(b"k", n);
                        }
                    }
                    Hostile::Reward(n) => { rl.reward(b"k", n); }
                    Hostile::Consume(c) => { rl.consume(b"k", c); }
                    Hostile::Advance(ms) => clock.advance(ms),
                }
                assert_agree(&rl, b"k", &format!("step {step} {op:?}"))?;
            }
        }

        /// With room for every key, sweeps of any size never change a decision.
        #[test]
        fn same_decisions_as_token_bucket_model_with_sweeps(
            limit in 1u64..12,
            window_ms in 1u64..5_000,
            burst in 1u64..14,
            sweep_per_op in 0usize..4,
            ops in proptest::collection::vec(op(), 1..300),
        ) {
            run_against_model(limit, window_ms, burst, 8, sweep_per_op, &ops)?;
        }

        /// A small table: evictions happen, are counted, and never change the decision
        /// for a key the limiter still holds.
        #[test]
        fn same_decisions_with_evictions_in_a_small_table(
            limit in 1u64..12,
            window_ms in 1u64..5_000,
            burst in 1u64..14,
            max_keys in 1usize..8,
            sweep_per_op in 0usize..3,
            ops in proptest::collection::vec(op(), 1..300),
        ) {
            run_against_model(limit, window_ms, burst, max_keys, sweep_per_op, &ops)?;
        }
    }
}

//! The limiter: GCRA decisions over the bounded key table (a limiter created with
//! [`Algorithm::FixedWindow`] decides in `fixed_window.rs` instead).

use std::sync::Arc;

use super::cell::{Guard, TableCell};
use super::config::{Algorithm, ConfigError, RateLimitConfig, MAX_AHEAD, MAX_LIMIT};
use super::hash::{hash_bytes, random_seed};
use super::ip::ip_group;
use super::table::{Stats, Table};
use crate::core::clock::{CoarseClock, SharedClock};

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

/// A keyed GCRA rate limiter. See the module documentation.
pub struct RateLimiter {
    pub(super) config: RateLimitConfig,
    /// Time units per millisecond.
    pub(super) scale: u64,
    /// Emission interval in time units.
    interval: u64,
    /// `burst · interval`: how far `tat` may run ahead of now.
    tolerance: u64,
    seed: u64,
    epoch_ms: u64,
    clock: SharedClock,
    table: TableCell,
}

pub(super) fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl RateLimiter {
    /// A limiter reading `clock`, usable from any thread; fails when an option is out of
    /// range.
    pub fn new(config: RateLimitConfig, clock: SharedClock) -> Result<Self, ConfigError> {
        Self::with_table(config, clock, TableCell::shared(Table::new()))
    }

    /// A limiter for the calling thread only (the addon's JS thread): no mutex on any
    /// call; a call from another thread panics. See `cell.rs`.
    pub fn new_thread_owned(
        config: RateLimitConfig,
        clock: SharedClock,
    ) -> Result<Self, ConfigError> {
        Self::with_table(config, clock, TableCell::owned(Table::new()))
    }

    fn with_table(
        config: RateLimitConfig,
        clock: SharedClock,
        table: TableCell,
    ) -> Result<Self, ConfigError> {
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
            table,
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
    pub(super) fn lock(&self) -> Guard<'_> {
        self.table.borrow()
    }

    /// Current time in units since the limiter's epoch.
    #[inline]
    pub(super) fn now_units(&self) -> u64 {
        self.clock
            .now_ms()
            .saturating_sub(self.epoch_ms)
            .saturating_mul(self.scale)
    }

    #[inline]
    pub(super) fn units_to_ms_ceil(&self, units: u64) -> u64 {
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
        if self.config.algorithm == Algorithm::FixedWindow {
            return self.decide_fixed(t, key, cost, now);
        }
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
                t.insert(key, new_tat, 0, self.config.max_keys, now);
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
        if self.config.algorithm == Algorithm::FixedWindow {
            return self.state_fixed(&t, key, now);
        }
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
        if self.config.algorithm == Algorithm::FixedWindow {
            let (hits, _) = self.add_hits(&mut t, key, n, now);
            return self.remaining_fixed(hits);
        }
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
                t.insert(key, tat, 0, self.config.max_keys, now);
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
        if self.config.algorithm == Algorithm::FixedWindow {
            return self.give_back(&mut t, key, n, now);
        }
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
        self.lock().heap_bytes()
    }
}

/// Splits a batch on `\n`; a trailing newline does not start an extra (empty) key.
pub fn split_keys(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = buf.strip_suffix(b"\n").unwrap_or(buf);
    let empty = buf.is_empty();
    body.split(|b| *b == b'\n').filter(move |_| !empty)
}

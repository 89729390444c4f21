//! The numbers the JS facade reads without a call: one `f64` per slot, shared as a
//! `Float64Array`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Slots of [`Published`] (each an `f64` stored as bits).
pub mod slot {
    pub const STATE: usize = 0;
    pub const TRANSITIONS: usize = 1;
    pub const FIRES: usize = 2;
    pub const SUCCESSES: usize = 3;
    pub const FAILURES: usize = 4;
    pub const TIMEOUTS: usize = 5;
    pub const REJECTS: usize = 6;
    pub const FALLBACKS: usize = 7;
    pub const LATENCY_SUM: usize = 8;
    pub const LAST_SUCCESS_MS: usize = 9;
    pub const LAST_FAILURE_MS: usize = 10;
    pub const CONSECUTIVE_FAILURES: usize = 11;
    pub const OPENED_AT_MS: usize = 12;
    /// First of the window statistics written by [`super::super::CircuitBreaker::publish_stats`]
    /// (the whole window) and [`super::super::CircuitBreaker::publish_bucket`] (one bucket):
    /// fires, successes, failures, timeouts, rejects, fallbacks, latencyMean, 9 percentiles,
    /// then the [`super::super::Counter`]s from cache hits on (5), then the bucket's open flag
    /// (0 no change in the bucket, 1 opened, 2 closed; 0 for the whole window).
    pub const WINDOW: usize = 16;
    /// First of the five counters after the percentiles.
    pub const WINDOW_EXTRA: usize = WINDOW + 16;
    pub const WINDOW_OPEN_FLAG: usize = WINDOW + 21;
    pub const LEN: usize = 40;
}

/// Numbers mirrored for lock-free readers (the JS facade maps them as a `Float64Array`).
/// Cumulative counters (slots 2-8) count since creation; -1 marks "never" for times.
#[repr(C)]
pub struct Published {
    words: [AtomicU64; slot::LEN],
}

impl Published {
    pub(super) fn new() -> Self {
        let p = Self {
            words: std::array::from_fn(|_| AtomicU64::new(0f64.to_bits())),
        };
        p.set(slot::LAST_SUCCESS_MS, -1.0);
        p.set(slot::LAST_FAILURE_MS, -1.0);
        p.set(slot::OPENED_AT_MS, -1.0);
        p
    }

    /// Reads one slot.
    pub fn get(&self, i: usize) -> f64 {
        self.words
            .get(i)
            .map_or(0.0, |w| f64::from_bits(w.load(Ordering::Relaxed)))
    }

    pub(super) fn set(&self, i: usize, x: f64) {
        if let Some(w) = self.words.get(i) {
            w.store(x.to_bits(), Ordering::Relaxed);
        }
    }

    pub(super) fn add(&self, i: usize, x: f64) {
        self.set(i, self.get(i) + x);
    }

    /// Start of the slots, for sharing them with JS as an external buffer.
    pub fn as_ptr(&self) -> *const u8 {
        self.words.as_ptr().cast()
    }

    /// Size of the slots in bytes.
    pub const BYTES: usize = slot::LEN * 8;
}

//! The rolling window: a ring of buckets, each with its counters and latency histogram,
//! and the statistics read from them.

use super::histogram::{hist_bin, hist_value, HIST_BINS};
use super::options::BreakerOptions;

/// Windowed statistics, opossum's names: counts over the rolling window.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stats {
    pub fires: u64,
    pub successes: u64,
    pub failures: u64,
    pub timeouts: u64,
    pub rejects: u64,
    pub fallbacks: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub coalesce_cache_hits: u64,
    pub coalesce_cache_misses: u64,
    pub semaphore_rejections: u64,
    /// Mean latency (ms) of the window's results; 0 when there are none.
    pub latency_mean: f64,
    /// Latency (ms) at each of [`PERCENTILES`]; 0 when there are no results.
    pub percentiles: [f64; 9],
}

/// opossum's percentile points.
pub const PERCENTILES: [f64; 9] = [0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 1.0];

/// The window counters, in the order of [`slot::WINDOW`] and of [`super::CircuitBreaker::seed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Fires = 0,
    Successes,
    Failures,
    Timeouts,
    Rejects,
    Fallbacks,
    CacheHits,
    CacheMisses,
    CoalesceCacheHits,
    CoalesceCacheMisses,
    SemaphoreRejections,
}

impl Counter {
    /// All counters, in slot order.
    pub const ALL: [Counter; 11] = [
        Counter::Fires,
        Counter::Successes,
        Counter::Failures,
        Counter::Timeouts,
        Counter::Rejects,
        Counter::Fallbacks,
        Counter::CacheHits,
        Counter::CacheMisses,
        Counter::CoalesceCacheHits,
        Counter::CoalesceCacheMisses,
        Counter::SemaphoreRejections,
    ];

    /// The counter with this index, if any.
    pub fn from_index(i: usize) -> Option<Counter> {
        Self::ALL.get(i).copied()
    }
}

#[derive(Clone, Default)]
pub(super) struct Counts {
    pub(super) fires: u64,
    pub(super) successes: u64,
    pub(super) failures: u64,
    pub(super) timeouts: u64,
    pub(super) rejects: u64,
    pub(super) fallbacks: u64,
    pub(super) cache_hits: u64,
    pub(super) cache_misses: u64,
    pub(super) coalesce_hits: u64,
    pub(super) coalesce_misses: u64,
    pub(super) semaphore_rejections: u64,
    /// The last state change in this bucket: 0 none, 1 opened, 2 closed.
    pub(super) open_flag: u8,
    pub(super) latency_count: u64,
    pub(super) latency_sum: u64,
    /// Results recorded while closed since the last close: the percentage rule's input.
    pub(super) rule_ok: u64,
    pub(super) rule_fail: u64,
}

impl Counts {
    pub(super) fn add(&mut self, counter: Counter, n: u64) {
        let c = match counter {
            Counter::Fires => &mut self.fires,
            Counter::Successes => &mut self.successes,
            Counter::Failures => &mut self.failures,
            Counter::Timeouts => &mut self.timeouts,
            Counter::Rejects => &mut self.rejects,
            Counter::Fallbacks => &mut self.fallbacks,
            Counter::CacheHits => &mut self.cache_hits,
            Counter::CacheMisses => &mut self.cache_misses,
            Counter::CoalesceCacheHits => &mut self.coalesce_hits,
            Counter::CoalesceCacheMisses => &mut self.coalesce_misses,
            Counter::SemaphoreRejections => &mut self.semaphore_rejections,
        };
        *c = c.saturating_add(n);
    }
}

pub(super) struct Window {
    pub(super) counts: Vec<Counts>,
    pub(super) hist: Vec<u32>,
    pub(super) head: usize,
    pub(super) slot: u64,
    pub(super) width_ms: u64,
    pub(super) manual: bool,
}

impl Window {
    pub(super) fn new(o: &BreakerOptions, now: u64) -> Self {
        let n = o.rolling_count_buckets.max(1) as usize;
        let width_ms = o.rolling_count_timeout_ms.div_ceil(n as u64).max(1);
        Self {
            counts: vec![Counts::default(); n],
            hist: vec![0; n * HIST_BINS],
            head: 0,
            slot: now / width_ms,
            width_ms,
            manual: o.manual_rotation,
        }
    }

    /// Moves the head to the bucket of `now`, clearing the buckets that expired.
    pub(super) fn rotate(&mut self, now: u64) {
        if self.manual {
            return;
        }
        let slot = now / self.width_ms;
        if slot <= self.slot {
            return;
        }
        let n = self.counts.len();
        let steps = (slot - self.slot).min(n as u64) as usize;
        for _ in 0..steps {
            self.head = (self.head + 1) % n;
            self.counts[self.head] = Counts::default();
            self.hist[self.head * HIST_BINS..(self.head + 1) * HIST_BINS].fill(0);
        }
        self.slot = slot;
    }

    pub(super) fn head(&mut self) -> &mut Counts {
        &mut self.counts[self.head]
    }

    /// Moves the head one bucket on, dropping the oldest (manual rotation).
    pub(super) fn step(&mut self) {
        let n = self.counts.len();
        self.head = (self.head + 1) % n;
        self.counts[self.head] = Counts::default();
        self.hist[self.head * HIST_BINS..(self.head + 1) * HIST_BINS].fill(0);
    }

    /// Index of the bucket holding time `t`, `None` when `t` left the window (or is
    /// later than the head, which callers never pass).
    pub(super) fn bucket_of(&self, t: u64) -> Option<usize> {
        if self.manual {
            return Some(self.head);
        }
        let back = self.slot.checked_sub(t / self.width_ms)? as usize;
        let n = self.counts.len();
        (back < n).then(|| (self.head + n - back) % n)
    }

    pub(super) fn add_latency(&mut self, h: usize, ms: u64) {
        let c = &mut self.counts[h];
        c.latency_count += 1;
        c.latency_sum = c.latency_sum.saturating_add(ms);
        let bin = h * HIST_BINS + hist_bin(ms);
        self.hist[bin] = self.hist[bin].saturating_add(1);
    }

    pub(super) fn clear_rule(&mut self) {
        for c in &mut self.counts {
            c.rule_ok = 0;
            c.rule_fail = 0;
        }
    }

    pub(super) fn rule(&self) -> (u64, u64) {
        self.counts
            .iter()
            .fold((0, 0), |(ok, fail), c| (ok + c.rule_ok, fail + c.rule_fail))
    }

    /// (fires, failures) over the whole window: the input of opossum's rule.
    pub(super) fn fires_and_failures(&self) -> (u64, u64) {
        self.counts
            .iter()
            .fold((0, 0), |(f, x), c| (f + c.fires, x + c.failures))
    }

    /// Statistics of the buckets `which` selects (all of them, or one).
    pub(super) fn stats_of(&self, which: Option<usize>) -> Stats {
        let mut s = Stats::default();
        let (mut lat_n, mut lat_sum) = (0u64, 0u64);
        let picked = |i: usize| which.is_none_or(|w| w == i);
        for c in self
            .counts
            .iter()
            .enumerate()
            .filter(|(i, _)| picked(*i))
            .map(|(_, c)| c)
        {
            s.fires += c.fires;
            s.successes += c.successes;
            s.failures += c.failures;
            s.timeouts += c.timeouts;
            s.rejects += c.rejects;
            s.fallbacks += c.fallbacks;
            s.cache_hits += c.cache_hits;
            s.cache_misses += c.cache_misses;
            s.coalesce_cache_hits += c.coalesce_hits;
            s.coalesce_cache_misses += c.coalesce_misses;
            s.semaphore_rejections += c.semaphore_rejections;
            lat_n += c.latency_count;
            lat_sum = lat_sum.saturating_add(c.latency_sum);
        }
        if lat_n == 0 {
            return s;
        }
        s.latency_mean = lat_sum as f64 / lat_n as f64;
        let mut merged = vec![0u64; HIST_BINS];
        for (i, chunk) in self.hist.chunks_exact(HIST_BINS).enumerate() {
            if !picked(i) {
                continue;
            }
            for (m, &x) in merged.iter_mut().zip(chunk) {
                *m += u64::from(x);
            }
        }
        for (out, &p) in s.percentiles.iter_mut().zip(PERCENTILES.iter()) {
            // opossum's rank: the ceil(n * p)-th smallest value, the smallest for p = 0.
            let rank = ((lat_n as f64 * p).ceil() as u64).clamp(1, lat_n);
            let mut seen = 0u64;
            for (bin, &x) in merged.iter().enumerate() {
                seen += x;
                if seen >= rank {
                    *out = hist_value(bin);
                    break;
                }
            }
        }
        s
    }
}

//! Circuit breaker state machine: closed, open, half-open.
//!
//! Opening rules, both evaluated on every failure recorded while closed:
//! - error percentage over a rolling window of `rolling_count_buckets` buckets covering
//!   `rolling_count_timeout_ms`: opens when at least `volume_threshold` results were
//!   recorded since the last close and the failed share exceeds
//!   `error_threshold_percentage` (opossum's rule; `None` disables it);
//! - `failure_threshold` consecutive failures (the qerrors spec's meaning; 0 disables it).
//!
//! With `window_rule` (opossum's reading of the percentage rule) the rule's input is the
//! whole window instead: every fire (rejects included) and every failure still in the
//! window, whether or not the breaker closed since. `warm_up_ms` keeps both rules off for
//! that long after creation. `manual_rotation` moves the window only on
//! [`CircuitBreaker::rotate_bucket`] (an external clock such as an event emitter).
//!
//! After `reset_timeout_ms` in the open state the breaker turns half-open, observed lazily
//! by the next [`CircuitBreaker::try_acquire`] or [`CircuitBreaker::state`]. Half-open admits
//! at most `half_open_max_probes` calls at a time: each gets a probe [`Permit`]. The first
//! probe result decides: success closes, failure or timeout re-opens. Results of calls
//! admitted earlier (stale results) are counted in the stats but never move the state, so
//! a slow call admitted while closed cannot close a breaker that is probing.
//!
//! Everything is `&self` behind one mutex (uncontended on the JS thread, short critical
//! sections), so the type is `Send + Sync` and the AI pipeline shares it between tokio
//! threads. Counters the JS facade reads without a call are mirrored into [`Published`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::core::clock::SharedClock;

/// Breaker state; the discriminants are the codes the JS facade reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
}

/// The result of one admitted call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    /// A failure that also counts as a timeout.
    Timeout,
}

/// The right to run one call, returned by [`CircuitBreaker::try_acquire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit {
    /// Clock time of admission, for latency.
    pub start_ms: u64,
    /// 0 for a normal call; otherwise the half-open epoch (1..=[`MAX_EPOCH`]) it probes.
    pub probe: u16,
}

/// Half-open epochs cycle through 1..=MAX_EPOCH, so a permit fits a JS number with its time.
pub const MAX_EPOCH: u16 = 2047;

/// Configuration. [`BreakerOptions::validate`] checks the ranges.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerOptions {
    pub reset_timeout_ms: u64,
    pub rolling_count_timeout_ms: u64,
    pub rolling_count_buckets: u32,
    pub error_threshold_percentage: Option<f64>,
    pub volume_threshold: u32,
    pub failure_threshold: u32,
    pub half_open_max_probes: u32,
    /// The percentage rule reads the whole window (opossum) instead of the results since
    /// the last close.
    pub window_rule: bool,
    /// The window moves only on [`CircuitBreaker::rotate_bucket`].
    pub manual_rotation: bool,
    /// No rule opens the breaker during this long after creation (opossum's warm-up).
    pub warm_up_ms: u64,
}

impl Default for BreakerOptions {
    fn default() -> Self {
        Self {
            reset_timeout_ms: 30_000,
            rolling_count_timeout_ms: 60_000,
            rolling_count_buckets: 10,
            error_threshold_percentage: Some(50.0),
            volume_threshold: 10,
            failure_threshold: 5,
            half_open_max_probes: 1,
            window_rule: false,
            manual_rotation: false,
            warm_up_ms: 0,
        }
    }
}

/// Most buckets a window may have (each carries a latency histogram).
pub const MAX_BUCKETS: u32 = 1000;
/// Longest time accepted for any duration option: about 24.8 days, setTimeout's limit.
pub const MAX_DURATION_MS: u64 = 2_147_483_647;

impl BreakerOptions {
    /// Checks every range; the error names the option and the accepted range.
    pub fn validate(&self) -> Result<(), String> {
        // 0 is accepted (opossum): the breaker turns half-open as soon as it is looked at.
        if self.reset_timeout_ms > MAX_DURATION_MS {
            return Err(format!(
                "resetTimeout must be between 0 and {MAX_DURATION_MS} ms"
            ));
        }
        if self.warm_up_ms > MAX_DURATION_MS {
            return Err(format!("warmUp must be between 0 and {MAX_DURATION_MS} ms"));
        }
        if self.rolling_count_timeout_ms == 0 || self.rolling_count_timeout_ms > MAX_DURATION_MS {
            return Err(format!(
                "rollingCountTimeout must be between 1 and {MAX_DURATION_MS} ms"
            ));
        }
        if self.rolling_count_buckets == 0 || self.rolling_count_buckets > MAX_BUCKETS {
            return Err(format!(
                "rollingCountBuckets must be an integer between 1 and {MAX_BUCKETS}"
            ));
        }
        if u64::from(self.rolling_count_buckets) > self.rolling_count_timeout_ms {
            return Err("rollingCountBuckets must not exceed rollingCountTimeout (ms)".into());
        }
        if let Some(p) = self.error_threshold_percentage {
            if !(0.0..=100.0).contains(&p) {
                return Err("errorThresholdPercentage must be between 0 and 100".into());
            }
        }
        if self.half_open_max_probes == 0 {
            return Err("halfOpenMaxProbes must be a positive integer".into());
        }
        Ok(())
    }
}

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
    /// First of the window statistics written by [`super::CircuitBreaker::publish_stats`]
    /// (the whole window) and [`super::CircuitBreaker::publish_bucket`] (one bucket):
    /// fires, successes, failures, timeouts, rejects, fallbacks, latencyMean, 9 percentiles,
    /// then the [`super::Counter`]s from cache hits on (5), then the bucket's open flag
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
    fn new() -> Self {
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

    fn set(&self, i: usize, x: f64) {
        if let Some(w) = self.words.get(i) {
            w.store(x.to_bits(), Ordering::Relaxed);
        }
    }

    fn add(&self, i: usize, x: f64) {
        self.set(i, self.get(i) + x);
    }

    /// Start of the slots, for sharing them with JS as an external buffer.
    pub fn as_ptr(&self) -> *const u8 {
        self.words.as_ptr().cast()
    }

    /// Size of the slots in bytes.
    pub const BYTES: usize = slot::LEN * 8;
}

/// Latency histogram: exact below 64 ms, then 8 bins per power of two (about 6 % wide).
const HIST_EXACT: u64 = 64;
const HIST_SUB: u64 = 8;
const HIST_MAX_EXP: u32 = 40;
const HIST_BINS: usize = (HIST_EXACT + (HIST_MAX_EXP as u64 - 5) * HIST_SUB) as usize;

fn hist_bin(ms: u64) -> usize {
    let v = ms.min((1u64 << (HIST_MAX_EXP + 1)) - 1);
    if v < HIST_EXACT {
        return v as usize;
    }
    let e = 63 - v.leading_zeros() as u64; // 6..=HIST_MAX_EXP
    let sub = (v >> (e - 3)) & (HIST_SUB - 1);
    (HIST_EXACT + (e - 6) * HIST_SUB + sub) as usize
}

fn hist_value(bin: usize) -> f64 {
    let b = bin as u64;
    if b < HIST_EXACT {
        return b as f64;
    }
    let e = (b - HIST_EXACT) / HIST_SUB + 6;
    let sub = (b - HIST_EXACT) % HIST_SUB;
    let lo = (HIST_SUB + sub) << (e - 3);
    let width = 1u64 << (e - 3);
    lo as f64 + (width - 1) as f64 / 2.0
}

/// The window counters, in the order of [`slot::WINDOW`] and of [`CircuitBreaker::seed`].
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
struct Counts {
    fires: u64,
    successes: u64,
    failures: u64,
    timeouts: u64,
    rejects: u64,
    fallbacks: u64,
    cache_hits: u64,
    cache_misses: u64,
    coalesce_hits: u64,
    coalesce_misses: u64,
    semaphore_rejections: u64,
    /// The last state change in this bucket: 0 none, 1 opened, 2 closed.
    open_flag: u8,
    latency_count: u64,
    latency_sum: u64,
    /// Results recorded while closed since the last close: the percentage rule's input.
    rule_ok: u64,
    rule_fail: u64,
}

impl Counts {
    fn add(&mut self, counter: Counter, n: u64) {
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

struct Window {
    counts: Vec<Counts>,
    hist: Vec<u32>,
    head: usize,
    slot: u64,
    width_ms: u64,
    manual: bool,
}

impl Window {
    fn new(o: &BreakerOptions, now: u64) -> Self {
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
    fn rotate(&mut self, now: u64) {
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

    fn head(&mut self) -> &mut Counts {
        &mut self.counts[self.head]
    }

    /// Moves the head one bucket on, dropping the oldest (manual rotation).
    fn step(&mut self) {
        let n = self.counts.len();
        self.head = (self.head + 1) % n;
        self.counts[self.head] = Counts::default();
        self.hist[self.head * HIST_BINS..(self.head + 1) * HIST_BINS].fill(0);
    }

    /// Index of the bucket holding time `t`, `None` when `t` left the window (or is
    /// later than the head, which callers never pass).
    fn bucket_of(&self, t: u64) -> Option<usize> {
        if self.manual {
            return Some(self.head);
        }
        let back = self.slot.checked_sub(t / self.width_ms)? as usize;
        let n = self.counts.len();
        (back < n).then(|| (self.head + n - back) % n)
    }

    fn add_latency(&mut self, h: usize, ms: u64) {
        let c = &mut self.counts[h];
        c.latency_count += 1;
        c.latency_sum = c.latency_sum.saturating_add(ms);
        let bin = h * HIST_BINS + hist_bin(ms);
        self.hist[bin] = self.hist[bin].saturating_add(1);
    }

    fn clear_rule(&mut self) {
        for c in &mut self.counts {
            c.rule_ok = 0;
            c.rule_fail = 0;
        }
    }

    fn rule(&self) -> (u64, u64) {
        self.counts
            .iter()
            .fold((0, 0), |(ok, fail), c| (ok + c.rule_ok, fail + c.rule_fail))
    }

    /// (fires, failures) over the whole window: the input of opossum's rule.
    fn fires_and_failures(&self) -> (u64, u64) {
        self.counts
            .iter()
            .fold((0, 0), |(f, x), c| (f + c.fires, x + c.failures))
    }

    /// Statistics of the buckets `which` selects (all of them, or one).
    fn stats_of(&self, which: Option<usize>) -> Stats {
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

struct Inner {
    state: State,
    opened_at: u64,
    consecutive_failures: u32,
    epoch: u16,
    probes_in_flight: u32,
    transitions: u64,
    window: Window,
    created_at: u64,
}

/// The breaker. See the module documentation for the rules.
pub struct CircuitBreaker {
    opts: BreakerOptions,
    clock: SharedClock,
    inner: Mutex<Inner>,
    published: Box<Published>,
}

impl CircuitBreaker {
    /// A closed breaker. Fails when an option is out of range.
    pub fn new(opts: BreakerOptions, clock: SharedClock) -> Result<Self, String> {
        opts.validate()?;
        let now = clock.now_ms();
        let window = Window::new(&opts, now);
        Ok(Self {
            opts,
            clock,
            inner: Mutex::new(Inner {
                state: State::Closed,
                opened_at: 0,
                consecutive_failures: 0,
                epoch: 0,
                probes_in_flight: 0,
                transitions: 0,
                window,
                created_at: now,
            }),
            published: Box::new(Published::new()),
        })
    }

    /// The options in effect.
    pub fn options(&self) -> &BreakerOptions {
        &self.opts
    }

    /// Current time of the breaker's clock.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No code path panics while holding the lock; recover the data if one ever did.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn transition(&self, g: &mut Inner, to: State, now: u64) {
        g.state = to;
        g.transitions += 1;
        match to {
            State::Open => {
                g.window.head().open_flag = 1;
                g.opened_at = now;
                g.probes_in_flight = 0;
                self.published.set(slot::OPENED_AT_MS, now as f64);
            }
            State::HalfOpen => {
                g.epoch = if g.epoch >= MAX_EPOCH { 1 } else { g.epoch + 1 };
                g.probes_in_flight = 0;
            }
            State::Closed => {
                g.window.head().open_flag = 2;
                g.consecutive_failures = 0;
                g.probes_in_flight = 0;
                g.window.clear_rule();
            }
        }
        self.published.set(
            slot::CONSECUTIVE_FAILURES,
            f64::from(g.consecutive_failures),
        );
        self.published.set(slot::STATE, to as u8 as f64);
        self.published.set(slot::TRANSITIONS, g.transitions as f64);
    }

    /// Turns an open breaker half-open once its reset timeout has passed.
    fn poll(&self, g: &mut Inner, now: u64) {
        if g.state == State::Open && now.saturating_sub(g.opened_at) >= self.opts.reset_timeout_ms {
            self.transition(g, State::HalfOpen, now);
        }
    }

    /// Asks to run one call. Every request counts as a fire; a refused one as a reject.
    pub fn try_acquire(&self) -> Option<Permit> {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        g.window.rotate(now);
        g.window.head().fires += 1;
        self.published.add(slot::FIRES, 1.0);
        self.poll(&mut g, now);
        let permit = match g.state {
            State::Closed => Some(Permit {
                start_ms: now,
                probe: 0,
            }),
            State::HalfOpen if g.probes_in_flight < self.opts.half_open_max_probes => {
                g.probes_in_flight += 1;
                Some(Permit {
                    start_ms: now,
                    probe: g.epoch,
                })
            }
            _ => None,
        };
        if permit.is_none() {
            g.window.head().rejects += 1;
            self.published.add(slot::REJECTS, 1.0);
        }
        permit
    }

    /// Records the result of an admitted call; returns its latency in ms.
    pub fn record(&self, permit: Permit, outcome: Outcome) -> u64 {
        let now = self.clock.now_ms();
        let latency = now.saturating_sub(permit.start_ms);
        let mut g = self.lock();
        g.window.rotate(now);
        self.record_locked(&mut g, permit.probe, outcome, latency, now);
        latency
    }

    /// Counts a fire and records its result, for a caller that admitted the call itself
    /// because the published state was closed (the JS facade's fast path, which measures
    /// latency on its side). Equivalent to `try_acquire` while closed plus `record`,
    /// except that the fire is counted now rather than at admission.
    pub fn record_closed(&self, outcome: Outcome, latency_ms: u64) {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        g.window.rotate(now);
        g.window.head().fires += 1;
        self.published.add(slot::FIRES, 1.0);
        self.record_locked(&mut g, 0, outcome, latency_ms, now);
    }

    /// [`Self::record_closed`] for a batch of successes that all happened in the window
    /// bucket of time `at_ms` (the caller flushes a batch before its bucket ends), under
    /// one lock. Successes whose bucket already left the window count only in the totals.
    pub fn record_closed_successes(&self, latencies_ms: impl IntoIterator<Item = u64>, at_ms: u64) {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        g.window.rotate(now);
        let at = at_ms.min(now);
        let bucket = g.window.bucket_of(at);
        // Successes never change the state: add them up, then publish once.
        let (mut n, mut sum) = (0u64, 0u64);
        for latency in latencies_ms {
            if let Some(b) = bucket {
                g.window.add_latency(b, latency);
            }
            n += 1;
            sum = sum.saturating_add(latency);
        }
        if n == 0 {
            return;
        }
        let closed = g.state == State::Closed;
        if let Some(b) = bucket {
            let c = &mut g.window.counts[b];
            c.fires += n;
            c.successes += n;
            if closed {
                c.rule_ok += n;
            }
        }
        let p = &self.published;
        p.add(slot::FIRES, n as f64);
        p.add(slot::SUCCESSES, n as f64);
        p.add(slot::LATENCY_SUM, sum as f64);
        p.set(slot::LAST_SUCCESS_MS, at as f64);
        if closed {
            g.consecutive_failures = 0;
            p.set(slot::CONSECUTIVE_FAILURES, 0.0);
        }
    }

    fn record_locked(&self, g: &mut Inner, probe: u16, outcome: Outcome, latency: u64, now: u64) {
        let head = Some(g.window.head);
        self.record_in(g, head, probe, outcome, latency, now);
    }

    /// Records one result into window bucket `bucket` (`None`: totals only) at time `now`.
    fn record_in(
        &self,
        g: &mut Inner,
        bucket: Option<usize>,
        probe: u16,
        outcome: Outcome,
        latency: u64,
        now: u64,
    ) {
        self.published.add(slot::LATENCY_SUM, latency as f64);
        let ok = outcome == Outcome::Success;
        if let Some(b) = bucket {
            g.window.add_latency(b, latency);
            let c = &mut g.window.counts[b];
            if ok {
                c.successes += 1;
            } else {
                c.failures += 1;
                if outcome == Outcome::Timeout {
                    c.timeouts += 1;
                }
            }
        }
        if ok {
            self.published.add(slot::SUCCESSES, 1.0);
            self.published.set(slot::LAST_SUCCESS_MS, now as f64);
        } else {
            self.published.add(slot::FAILURES, 1.0);
            self.published.set(slot::LAST_FAILURE_MS, now as f64);
            if outcome == Outcome::Timeout {
                self.published.add(slot::TIMEOUTS, 1.0);
            }
        }
        if probe != 0 {
            if g.state == State::HalfOpen && probe == g.epoch {
                g.probes_in_flight = g.probes_in_flight.saturating_sub(1);
                let to = if ok { State::Closed } else { State::Open };
                self.transition(g, to, now);
            }
        } else if g.state == State::Closed {
            if ok {
                g.consecutive_failures = 0;
                if let Some(b) = bucket {
                    g.window.counts[b].rule_ok += 1;
                }
            } else {
                g.consecutive_failures = g.consecutive_failures.saturating_add(1);
                if let Some(b) = bucket {
                    g.window.counts[b].rule_fail += 1;
                }
                if self.should_open(g, now) {
                    self.transition(g, State::Open, now);
                }
            }
            self.published.set(
                slot::CONSECUTIVE_FAILURES,
                f64::from(g.consecutive_failures),
            );
        }
    }

    fn should_open(&self, g: &Inner, now: u64) -> bool {
        if self.warming_up(g, now) {
            return false;
        }
        let t = self.opts.failure_threshold;
        if t > 0 && g.consecutive_failures >= t {
            return true;
        }
        let Some(pct) = self.opts.error_threshold_percentage else {
            return false;
        };
        let (total, fail) = if self.opts.window_rule {
            g.window.fires_and_failures()
        } else {
            let (ok, fail) = g.window.rule();
            (ok + fail, fail)
        };
        // A failure can outlive the fire that caused it in the window (a slow call): with
        // no fire left the share is infinite, as opossum computes it.
        fail > 0
            && total >= u64::from(self.opts.volume_threshold)
            && fail as f64 * 100.0 > pct * total as f64
    }

    /// Counts one fallback (the JS facade runs them).
    pub fn record_fallback(&self) {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        g.window.rotate(now);
        g.window.head().fallbacks += 1;
        self.published.add(slot::FALLBACKS, 1.0);
    }

    /// Current state, turning open into half-open when the reset timeout has passed.
    pub fn state(&self) -> State {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        self.poll(&mut g, now);
        g.state
    }

    fn warming_up(&self, g: &Inner, now: u64) -> bool {
        self.opts.warm_up_ms > 0 && now.saturating_sub(g.created_at) < self.opts.warm_up_ms
    }

    /// Whether the warm-up period (no opening) still runs.
    pub fn warm_up(&self) -> bool {
        let now = self.clock.now_ms();
        let g = self.lock();
        self.warming_up(&g, now)
    }

    /// Adds `n` to one window counter of the current bucket (fires also count in the
    /// published totals): for events the facade handles itself (cache and coalescing
    /// hits, fires of a disabled breaker, semaphore rejections).
    pub fn bump(&self, counter: Counter, n: u64) {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        g.window.rotate(now);
        g.window.head().add(counter, n);
        if counter == Counter::Fires {
            self.published.add(slot::FIRES, n as f64);
        }
    }

    /// Adds counts (in [`Counter::ALL`] order) to the current bucket: restoring the
    /// statistics a breaker exported. Cumulative totals are not touched.
    pub fn seed(&self, counts: &[u64]) {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        g.window.rotate(now);
        for (&c, &n) in Counter::ALL.iter().zip(counts) {
            g.window.head().add(c, n);
        }
    }

    /// Moves the window one bucket on (with `manual_rotation`; also works without).
    pub fn rotate_bucket(&self) {
        self.lock().window.step();
    }

    /// Number of buckets in the window.
    pub fn bucket_count(&self) -> usize {
        self.lock().window.counts.len()
    }

    /// Turns the breaker half-open now (no-op unless open): the facade's reset timer, and
    /// a restored half-open state.
    pub fn force_half_open(&self) {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        if g.state != State::HalfOpen {
            self.transition(&mut g, State::HalfOpen, now);
        }
    }

    /// Opens the breaker now (no-op when already open).
    pub fn force_open(&self) {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        g.window.rotate(now);
        if g.state != State::Open {
            self.transition(&mut g, State::Open, now);
        }
    }

    /// Closes the breaker now (no-op when already closed).
    pub fn force_close(&self) {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        g.window.rotate(now);
        if g.state != State::Closed {
            self.transition(&mut g, State::Closed, now);
        }
    }

    /// Number of state changes since creation.
    pub fn transitions(&self) -> u64 {
        self.lock().transitions
    }

    /// Statistics over the rolling window.
    pub fn stats(&self) -> Stats {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        g.window.rotate(now);
        g.window.stats_of(None)
    }

    /// Writes [`Self::stats`] into the window slots of [`Published`].
    pub fn publish_stats(&self) {
        self.publish(self.stats(), 0);
    }

    /// Writes the statistics of one bucket (0 the newest) into the window slots; false
    /// when there is no such bucket.
    pub fn publish_bucket(&self, age: usize) -> bool {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        g.window.rotate(now);
        let n = g.window.counts.len();
        if age >= n {
            return false;
        }
        let i = (g.window.head + n - age) % n;
        let s = g.window.stats_of(Some(i));
        let flag = g.window.counts[i].open_flag;
        drop(g);
        self.publish(s, flag);
        true
    }

    fn publish(&self, s: Stats, open_flag: u8) {
        let p = &self.published;
        let base = slot::WINDOW;
        let counts = [
            s.fires,
            s.successes,
            s.failures,
            s.timeouts,
            s.rejects,
            s.fallbacks,
        ];
        for (i, c) in counts.iter().enumerate() {
            p.set(base + i, *c as f64);
        }
        p.set(base + 6, s.latency_mean);
        for (i, x) in s.percentiles.iter().enumerate() {
            p.set(base + 7 + i, *x);
        }
        let extra = [
            s.cache_hits,
            s.cache_misses,
            s.coalesce_cache_hits,
            s.coalesce_cache_misses,
            s.semaphore_rejections,
        ];
        for (i, c) in extra.iter().enumerate() {
            p.set(slot::WINDOW_EXTRA + i, *c as f64);
        }
        p.set(slot::WINDOW_OPEN_FLAG, f64::from(open_flag));
    }

    /// Lock-free mirror of the state and cumulative counters.
    pub fn published(&self) -> &Published {
        &self.published
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::{Clock, FakeClock};
    use proptest::prelude::*;
    use std::sync::Arc;

    fn breaker(o: BreakerOptions) -> (Arc<FakeClock>, CircuitBreaker) {
        let clock = Arc::new(FakeClock::new(1_000));
        let b = CircuitBreaker::new(o, clock.clone()).expect("valid options");
        (clock, b)
    }

    fn consecutive(n: u32) -> BreakerOptions {
        BreakerOptions {
            failure_threshold: n,
            error_threshold_percentage: None,
            reset_timeout_ms: 100,
            ..BreakerOptions::default()
        }
    }

    fn fail_once(b: &CircuitBreaker) {
        let p = b.try_acquire().expect("admitted");
        b.record(p, Outcome::Failure);
    }

    #[test]
    fn opens_after_consecutive_failures_and_recovers() {
        let (clock, b) = breaker(consecutive(3));
        fail_once(&b);
        fail_once(&b);
        let p = b.try_acquire().expect("admitted");
        b.record(p, Outcome::Success);
        fail_once(&b);
        fail_once(&b);
        assert_eq!(b.state(), State::Closed, "a success resets the count");
        fail_once(&b);
        assert_eq!(b.state(), State::Open);
        assert_eq!(b.try_acquire(), None);
        clock.advance(99);
        assert_eq!(b.state(), State::Open);
        clock.advance(1);
        assert_eq!(b.state(), State::HalfOpen);
        let probe = b.try_acquire().expect("one probe");
        assert_ne!(probe.probe, 0);
        assert_eq!(b.try_acquire(), None, "only one probe at a time");
        b.record(probe, Outcome::Success);
        assert_eq!(b.state(), State::Closed);
        assert_eq!(b.transitions(), 3);
        let s = b.stats();
        assert_eq!((s.fires, s.rejects, s.successes, s.failures), (9, 2, 2, 5));
    }

    #[test]
    fn failed_probe_reopens_and_restarts_the_reset_timeout() {
        let (clock, b) = breaker(consecutive(1));
        fail_once(&b);
        clock.advance(100);
        let probe = b.try_acquire().expect("probe");
        clock.advance(30);
        b.record(probe, Outcome::Timeout);
        assert_eq!(b.state(), State::Open);
        clock.advance(99);
        assert_eq!(b.state(), State::Open);
        clock.advance(1);
        assert_eq!(b.state(), State::HalfOpen);
        assert_eq!(b.stats().timeouts, 1);
    }

    #[test]
    fn stale_results_never_move_the_state() {
        let (clock, b) = breaker(consecutive(1));
        let slow = b.try_acquire().expect("admitted while closed");
        fail_once(&b);
        clock.advance(100);
        let probe = b.try_acquire().expect("probe");
        b.record(slow, Outcome::Success);
        assert_eq!(b.state(), State::HalfOpen, "a stale success does not close");
        b.record(probe, Outcome::Failure);
        assert_eq!(b.state(), State::Open);
        b.record(probe, Outcome::Success);
        assert_eq!(
            b.state(),
            State::Open,
            "a probe of a past epoch does not close"
        );
    }

    #[test]
    fn several_probes_when_configured() {
        let (clock, b) = breaker(BreakerOptions {
            half_open_max_probes: 3,
            ..consecutive(1)
        });
        fail_once(&b);
        clock.advance(100);
        let probes: Vec<_> = (0..5).filter_map(|_| b.try_acquire()).collect();
        assert_eq!(probes.len(), 3);
        b.record(probes[1], Outcome::Success);
        assert_eq!(b.state(), State::Closed);
    }

    #[test]
    fn percentage_rule_needs_the_volume() {
        let (_clock, b) = breaker(BreakerOptions {
            failure_threshold: 0,
            error_threshold_percentage: Some(50.0),
            volume_threshold: 4,
            ..BreakerOptions::default()
        });
        for ok in [true, false, false] {
            let p = b.try_acquire().expect("admitted");
            b.record(
                p,
                if ok {
                    Outcome::Success
                } else {
                    Outcome::Failure
                },
            );
        }
        assert_eq!(b.state(), State::Closed, "3 results < volume 4");
        fail_once(&b);
        assert_eq!(b.state(), State::Open, "3 of 4 failed > 50 %");
    }

    #[test]
    fn window_expires_old_results() {
        let (clock, b) = breaker(BreakerOptions {
            failure_threshold: 0,
            error_threshold_percentage: Some(50.0),
            volume_threshold: 2,
            rolling_count_timeout_ms: 1_000,
            rolling_count_buckets: 10,
            ..BreakerOptions::default()
        });
        fail_once(&b);
        clock.advance(1_000);
        assert_eq!(b.stats().failures, 0, "the old bucket expired");
        let p = b.try_acquire().expect("admitted");
        b.record(p, Outcome::Success);
        fail_once(&b);
        assert_eq!(b.state(), State::Closed, "1 of 2 is not more than 50 %");
    }

    #[test]
    fn latency_stats_follow_opossum_ranks() {
        let (clock, b) = breaker(BreakerOptions {
            failure_threshold: 0,
            error_threshold_percentage: None,
            ..BreakerOptions::default()
        });
        for ms in [1u64, 2, 3, 4, 10, 1000] {
            let p = b.try_acquire().expect("admitted");
            clock.advance(ms);
            b.record(p, Outcome::Success);
        }
        let s = b.stats();
        assert!((s.latency_mean - 1020.0 / 6.0).abs() < 1e-9);
        assert_eq!(s.percentiles[0], 1.0);
        assert_eq!(s.percentiles[2], 3.0);
        assert_eq!(s.percentiles[4], 991.5, "the bin of 1000 ms: 960..1023");
        assert!((s.percentiles[8] - 1000.0).abs() / 1000.0 < 0.07);
    }

    #[test]
    fn histogram_bins_are_monotonic_and_tight() {
        let mut last = 0;
        for v in (0u64..5000).chain([1 << 20, 1 << 39, u64::MAX]) {
            let b = hist_bin(v);
            assert!(b >= last && b < HIST_BINS);
            last = b;
            if v > 0 && v < (1 << 39) {
                assert!((hist_value(b) - v as f64).abs() / v as f64 <= 0.07, "{v}");
            }
        }
    }

    #[test]
    fn published_mirror_tracks_counters() {
        let (_clock, b) = breaker(consecutive(2));
        fail_once(&b);
        let p = b.published();
        assert_eq!(p.get(slot::FIRES), 1.0);
        assert_eq!(p.get(slot::FAILURES), 1.0);
        assert_eq!(p.get(slot::CONSECUTIVE_FAILURES), 1.0);
        fail_once(&b);
        assert_eq!(p.get(slot::STATE), State::Open as u8 as f64);
        assert_eq!(p.get(slot::TRANSITIONS), 1.0);
        b.publish_stats();
        assert_eq!(p.get(slot::WINDOW + 2), 2.0);
    }

    #[test]
    fn closed_path_records_like_acquire_and_record() {
        let (clock, a) = breaker(consecutive(3));
        let b = CircuitBreaker::new(consecutive(3), clock.clone()).expect("valid options");
        for (ok, ms) in [
            (true, 4u64),
            (false, 2),
            (true, 7),
            (false, 1),
            (false, 0),
            (false, 3),
        ] {
            let p = a.try_acquire().expect("closed");
            clock.advance(ms);
            a.record(
                p,
                if ok {
                    Outcome::Success
                } else {
                    Outcome::Failure
                },
            );
            if ok {
                b.record_closed_successes([ms], clock.now_ms());
            } else {
                b.record_closed(Outcome::Failure, ms);
            }
        }
        assert_eq!(a.state(), State::Open);
        assert_eq!(b.state(), State::Open);
        assert_eq!(a.stats(), b.stats());
        for i in 0..slot::WINDOW {
            assert_eq!(a.published().get(i), b.published().get(i), "slot {i}");
        }
        let (_clock, c) = breaker(consecutive(0));
        c.record_closed(Outcome::Timeout, 9);
        assert_eq!(c.stats().timeouts, 1);
    }

    #[test]
    fn a_batch_lands_in_the_bucket_of_its_time() {
        let (clock, b) = breaker(BreakerOptions {
            rolling_count_timeout_ms: 1_000,
            rolling_count_buckets: 10,
            ..consecutive(0)
        });
        let t0 = clock.now_ms();
        clock.advance(950);
        b.record_closed_successes([1, 2, 3], t0);
        assert_eq!(b.stats().successes, 3);
        clock.advance(50);
        assert_eq!(b.stats().successes, 0, "they expire with t0's bucket");
        b.record_closed_successes([1], t0);
        assert_eq!(b.stats().successes, 0, "too old for the window");
        assert_eq!(b.published().get(slot::SUCCESSES), 4.0);
    }

    #[test]
    fn bad_options_are_refused() {
        let clock: SharedClock = Arc::new(FakeClock::new(0));
        for o in [
            BreakerOptions {
                reset_timeout_ms: MAX_DURATION_MS + 1,
                ..Default::default()
            },
            BreakerOptions {
                rolling_count_buckets: 0,
                ..Default::default()
            },
            BreakerOptions {
                rolling_count_timeout_ms: 5,
                rolling_count_buckets: 10,
                ..Default::default()
            },
            BreakerOptions {
                error_threshold_percentage: Some(101.0),
                ..Default::default()
            },
            BreakerOptions {
                half_open_max_probes: 0,
                ..Default::default()
            },
        ] {
            assert!(CircuitBreaker::new(o, clock.clone()).is_err());
        }
    }

    fn opossum_like(volume: u32) -> BreakerOptions {
        BreakerOptions {
            failure_threshold: 0,
            error_threshold_percentage: Some(50.0),
            volume_threshold: volume,
            window_rule: true,
            rolling_count_timeout_ms: 1_000,
            rolling_count_buckets: 10,
            ..BreakerOptions::default()
        }
    }

    #[test]
    fn window_rule_counts_fires_and_survives_a_close() {
        let (_clock, b) = breaker(opossum_like(0));
        for _ in 0..2 {
            let p = b.try_acquire().expect("admitted");
            b.record(p, Outcome::Success);
        }
        b.bump(Counter::Fires, 1); // e.g. a cache hit: a fire without a result
        fail_once(&b);
        assert_eq!(b.state(), State::Closed, "1 failure of 4 fires is 25 %");
        fail_once(&b);
        fail_once(&b);
        assert_eq!(
            b.state(),
            State::Closed,
            "3 of 6 fires (the hit counts) is not > 50 %"
        );
        fail_once(&b);
        assert_eq!(b.state(), State::Open, "4 of 7");
        b.force_close();
        fail_once(&b);
        assert_eq!(b.state(), State::Open, "the window kept its failures");
    }

    #[test]
    fn warm_up_keeps_the_breaker_closed() {
        let (clock, b) = breaker(BreakerOptions {
            warm_up_ms: 500,
            ..opossum_like(0)
        });
        fail_once(&b);
        assert_eq!(b.state(), State::Closed);
        assert!(b.warm_up());
        clock.advance(500);
        assert!(!b.warm_up());
        fail_once(&b);
        assert_eq!(b.state(), State::Open);
    }

    #[test]
    fn manual_rotation_moves_only_when_told() {
        let (clock, b) = breaker(BreakerOptions {
            manual_rotation: true,
            ..opossum_like(100)
        });
        fail_once(&b);
        clock.advance(10_000);
        assert_eq!(b.stats().failures, 1);
        b.rotate_bucket();
        assert!(b.publish_bucket(1));
        assert_eq!(b.published().get(slot::WINDOW + 2), 1.0, "one bucket back");
        assert!(b.publish_bucket(0));
        assert_eq!(b.published().get(slot::WINDOW + 2), 0.0);
        assert!(!b.publish_bucket(10));
        for _ in 0..9 {
            b.rotate_bucket();
        }
        assert_eq!(b.stats().failures, 0);
    }

    #[test]
    fn buckets_carry_counters_and_the_open_flag() {
        let (_clock, b) = breaker(opossum_like(0));
        b.seed(&[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
        b.bump(Counter::CacheHits, 2);
        b.force_open();
        assert!(b.publish_bucket(0));
        let p = b.published();
        assert_eq!(p.get(slot::WINDOW), 1.0);
        assert_eq!(p.get(slot::WINDOW_EXTRA), 3.0);
        assert_eq!(p.get(slot::WINDOW_EXTRA + 4), 1.0);
        assert_eq!(p.get(slot::WINDOW_OPEN_FLAG), 1.0);
        assert_eq!(p.get(slot::FIRES), 0.0, "seeding leaves the totals alone");
        b.force_half_open();
        assert_eq!(b.state(), State::HalfOpen);
    }

    #[test]
    fn usable_from_any_thread() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<CircuitBreaker>();
    }

    #[test]
    fn shared_between_threads() {
        let (_clock, b) = breaker(consecutive(0));
        let b = Arc::new(b);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let b = Arc::clone(&b);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        if let Some(p) = b.try_acquire() {
                            b.record(p, Outcome::Success);
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
        assert_eq!(b.published().get(slot::SUCCESSES), 4000.0);
    }

    /// The reference model: the rules written as plainly as possible, keeping every
    /// result with its time and filtering the window on demand.
    struct Model {
        o: BreakerOptions,
        state: State,
        opened_at: u64,
        consecutive: u32,
        epoch: u64,
        probes: u32,
        /// (time, failed) of results recorded while closed since the last close.
        results: Vec<(u64, bool)>,
        /// Times of every fire and of every failure (the window rule's input).
        fires: Vec<u64>,
        fails: Vec<u64>,
    }

    impl Model {
        fn new(o: BreakerOptions) -> Self {
            Self {
                o,
                state: State::Closed,
                opened_at: 0,
                consecutive: 0,
                epoch: 0,
                probes: 0,
                results: Vec::new(),
                fires: Vec::new(),
                fails: Vec::new(),
            }
        }

        /// How many of `times` are still in the window at `now`.
        fn live(&self, times: &[u64], now: u64) -> f64 {
            let w = self.width();
            let oldest = (now / w).saturating_sub(u64::from(self.o.rolling_count_buckets) - 1);
            times.iter().filter(|&&t| t / w >= oldest).count() as f64
        }

        fn width(&self) -> u64 {
            self.o
                .rolling_count_timeout_ms
                .div_ceil(u64::from(self.o.rolling_count_buckets))
        }

        fn set(&mut self, s: State, now: u64) {
            self.state = s;
            self.probes = 0;
            match s {
                State::Open => self.opened_at = now,
                State::HalfOpen => self.epoch += 1,
                State::Closed => {
                    self.consecutive = 0;
                    self.results.clear();
                }
            }
        }

        fn poll(&mut self, now: u64) {
            if self.state == State::Open && now - self.opened_at >= self.o.reset_timeout_ms {
                self.set(State::HalfOpen, now);
            }
        }

        /// Some(epoch) for a probe, Some(0) for a normal call, None when rejected.
        /// `counted`: the fire is counted now (else when the call settles: the fast path).
        fn acquire(&mut self, now: u64, counted: bool) -> Option<u64> {
            if counted {
                self.fires.push(now);
            }
            self.poll(now);
            match self.state {
                State::Closed => Some(0),
                State::HalfOpen if self.probes < self.o.half_open_max_probes => {
                    self.probes += 1;
                    Some(self.epoch)
                }
                _ => None,
            }
        }

        fn record(&mut self, probe: u64, failed: bool, now: u64, fire_now: bool) {
            if fire_now {
                self.fires.push(now);
            }
            if failed {
                self.fails.push(now);
            }
            if probe != 0 {
                if self.state == State::HalfOpen && probe == self.epoch {
                    self.set(if failed { State::Open } else { State::Closed }, now);
                }
                return;
            }
            if self.state != State::Closed {
                return;
            }
            self.results.push((now, failed));
            if !failed {
                self.consecutive = 0;
                return;
            }
            self.consecutive += 1;
            let w = self.width();
            let n = u64::from(self.o.rolling_count_buckets);
            let oldest = (now / w).saturating_sub(n - 1);
            let live: Vec<bool> = self
                .results
                .iter()
                .filter(|(t, _)| t / w >= oldest)
                .map(|&(_, f)| f)
                .collect();
            let (fails, total) = if self.o.window_rule {
                (self.live(&self.fails, now), self.live(&self.fires, now))
            } else {
                (
                    live.iter().filter(|&&f| f).count() as f64,
                    live.len() as f64,
                )
            };
            if now < self.o.warm_up_ms {
                return; // created at time 0
            }
            let by_count =
                self.o.failure_threshold > 0 && self.consecutive >= self.o.failure_threshold;
            let by_pct = self.o.error_threshold_percentage.is_some_and(|p| {
                total >= f64::from(self.o.volume_threshold) && fails * 100.0 > p * total
            });
            if by_count || by_pct {
                self.set(State::Open, now);
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Acquire,
        /// Admit without `try_acquire` when the published state is closed (the JS fast
        /// path), settling through `record_closed` / `record_closed_successes`.
        AcquireFast,
        /// Settle the in-flight call at this index (mod count): 0 success, 1 failure, 2 timeout.
        Settle(usize, u8),
        Advance(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            2 => Just(Op::Acquire),
            2 => Just(Op::AcquireFast),
            4 => (any::<usize>(), 0u8..3).prop_map(|(i, k)| Op::Settle(i, k)),
            2 => (0u64..400).prop_map(Op::Advance),
        ]
    }

    fn options() -> impl Strategy<Value = BreakerOptions> {
        (
            1u64..500,
            1u32..6,
            prop_oneof![Just(None), (0u32..=100).prop_map(|p| Some(f64::from(p)))],
            0u32..6,
            0u32..5,
            1u32..4,
            (any::<bool>(), prop_oneof![Just(0u64), 1u64..600]),
        )
            .prop_map(
                |(reset, buckets, pct, volume, threshold, probes, (window_rule, warm_up_ms))| {
                    BreakerOptions {
                        reset_timeout_ms: reset,
                        rolling_count_timeout_ms: 1_000,
                        rolling_count_buckets: buckets,
                        error_threshold_percentage: pct,
                        volume_threshold: volume,
                        failure_threshold: threshold,
                        half_open_max_probes: probes,
                        window_rule,
                        warm_up_ms,
                        ..BreakerOptions::default()
                    }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn transition_traces_match_the_reference_model(
            o in options(),
            ops in proptest::collection::vec(op(), 1..300),
        ) {
            let clock = Arc::new(FakeClock::new(0));
            let b = CircuitBreaker::new(o.clone(), clock.clone()).expect("valid options");
            let mut m = Model::new(o);
            // (permit, model permit, admitted on the fast path)
            let mut inflight: Vec<(Permit, Option<u64>, bool)> = Vec::new();
            let mut trace = Vec::new();
            let mut model_trace = Vec::new();
            for (i, op) in ops.iter().enumerate() {
                let now = clock.now_ms();
                match *op {
                    Op::Acquire => {
                        let got = b.try_acquire();
                        let want = m.acquire(now, true);
                        prop_assert_eq!(got.is_some(), want.is_some(), "admission at op {}", i);
                        prop_assert_eq!(got.map(|p| p.probe != 0), want.map(|e| e != 0));
                        if let Some(p) = got {
                            inflight.push((p, want, false));
                        }
                    }
                    Op::AcquireFast => {
                        let closed = b.published().get(slot::STATE) == 0.0;
                        let got = if closed {
                            Some(Permit { start_ms: now, probe: 0 })
                        } else {
                            b.try_acquire()
                        };
                        let want = m.acquire(now, !closed);
                        prop_assert_eq!(got.is_some(), want.is_some(), "fast admission at op {}", i);
                        if let Some(p) = got {
                            inflight.push((p, want, closed));
                        }
                    }
                    Op::Settle(k, kind) => {
                        if inflight.is_empty() {
                            continue;
                        }
                        let (p, e, fast) = inflight.swap_remove(k % inflight.len());
                        let outcome = [Outcome::Success, Outcome::Failure, Outcome::Timeout][kind as usize];
                        let latency = now - p.start_ms;
                        match (fast, outcome) {
                            (false, _) => {
                                b.record(p, outcome);
                            }
                            (true, Outcome::Success) => b.record_closed_successes([latency], now),
                            (true, _) => b.record_closed(outcome, latency),
                        }
                        m.record(e.unwrap_or(0), kind != 0, now, fast);
                    }
                    Op::Advance(ms) => clock.advance(ms),
                }
                let s = b.published().get(slot::STATE);
                if trace.last().map(|&(_, x)| x) != Some(s) {
                    trace.push((i, s));
                }
                let ms = m.state as u8 as f64;
                if model_trace.last().map(|&(_, x)| x) != Some(ms) {
                    model_trace.push((i, ms));
                }
            }
            prop_assert_eq!(trace, model_trace);
            prop_assert_eq!(b.state(), { m.poll(clock.now_ms()); m.state });
        }
    }
}

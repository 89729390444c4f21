//! The state machine: admission, recording, transitions, publication.

use std::sync::{Mutex, MutexGuard};

use super::options::BreakerOptions;
use super::published::{slot, Published};
use super::window::{Counter, Stats, Window};
use super::{Outcome, Permit, State, MAX_EPOCH};
use crate::core::clock::SharedClock;

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

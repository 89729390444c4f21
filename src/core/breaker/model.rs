//! The reference model: the breaker's rules written as plainly as possible, and a
//! property test that the real machine's state trace matches it.

use super::*;
use crate::core::clock::{Clock, FakeClock};
use proptest::prelude::*;
use std::sync::Arc;

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
        let by_count = self.o.failure_threshold > 0 && self.consecutive >= self.o.failure_threshold;
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

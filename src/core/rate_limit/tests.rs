//! Behaviour tests of the limiter, and property tests against a plain token-bucket model.

use std::sync::Arc;

use super::gcra::gcd;
use super::*;
use crate::core::clock::FakeClock;
use proptest::prelude::*;

fn limiter(cfg: RateLimitConfig) -> (RateLimiter, Arc<FakeClock>) {
    let clock = Arc::new(FakeClock::new(1_000));
    let rl = RateLimiter::new(cfg, clock.clone()).expect("valid config");
    (rl, clock)
}

/// The same, with the table owned by this thread (no mutex), as the addon makes it.
fn owned_limiter(cfg: RateLimitConfig) -> (RateLimiter, Arc<FakeClock>) {
    let clock = Arc::new(FakeClock::new(1_000));
    let rl = RateLimiter::new_thread_owned(cfg, clock.clone()).expect("valid config");
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

#[test]
fn a_thread_owned_limiter_refuses_other_threads() {
    let (rl, _c) = owned_limiter(RateLimitConfig::new(2, 60_000));
    assert_eq!(rl.check(b"k"), 1);
    let rl = Arc::new(rl);
    let other = rl.clone();
    let joined = std::thread::spawn(move || other.check(b"k")).join();
    assert!(joined.is_err(), "a call from another thread panics");
    assert_eq!(
        rl.check(b"k"),
        0,
        "the owner still decides, and the refused call took nothing"
    );
    assert_eq!(rl.stats().allowed, 2);
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
    owned: bool,
    ops: &[Op],
) -> Result<(), TestCaseError> {
    let mut cfg = RateLimitConfig::new(limit, window_ms);
    cfg.burst = burst;
    cfg.max_keys = max_keys;
    cfg.sweep_per_op = sweep_per_op;
    let (rl, clock) = if owned {
        owned_limiter(cfg)
    } else {
        limiter(cfg)
    };
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
        owned in any::<bool>(),
        ops in proptest::collection::vec(op(), 1..300),
    ) {
        run_against_model(limit, window_ms, burst, 8, sweep_per_op, owned, &ops)?;
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
        owned in any::<bool>(),
        ops in proptest::collection::vec(op(), 1..300),
    ) {
        run_against_model(limit, window_ms, burst, max_keys, sweep_per_op, owned, &ops)?;
    }
}

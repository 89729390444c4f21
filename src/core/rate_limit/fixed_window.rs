//! The fixed-window algorithm, express-rate-limit's MemoryStore semantics: a key's first
//! hit opens a window of `window_ms`; every hit in it counts, refused ones too (a client
//! that keeps hammering stays over the limit), and a request is allowed while the
//! window's hits are at most `limit`. When the window ends the key starts again from zero.
//!
//! It shares the table with GCRA: a slot's `tat` is the window's end, so the sweep and
//! the eviction hand, which drop slots with `tat <= now`, drop ended windows.

use super::config::{Algorithm, MAX_LIMIT};
use super::gcra::{KeyState, RateLimiter};
use super::table::Table;

impl RateLimiter {
    /// The window length in time units.
    #[inline]
    fn window_units(&self) -> u64 {
        self.config.window_ms * self.scale
    }

    /// Adds `n` hits to `key`'s current window, opening one when it has none (`n = 0`
    /// only reads and creates nothing). Returns the window's hits and its end.
    pub(super) fn add_hits(&self, t: &mut Table, key: u64, n: u64, now: u64) -> (u64, u64) {
        let n = n.min(MAX_LIMIT) as u32;
        match t.find(key) {
            // An ended window reads as none; only a hit opens the next one.
            Some(i) if n == 0 && t.slots[i as usize].tat <= now => (0, now),
            Some(i) => {
                let s = &mut t.slots[i as usize];
                if s.tat <= now {
                    s.tat = now + self.window_units();
                    s.hits = 0;
                }
                s.hits = s.hits.saturating_add(n);
                let (hits, end) = (s.hits, s.tat);
                t.touch(i);
                (u64::from(hits), end)
            }
            None if n > 0 => {
                let end = now + self.window_units();
                t.insert(key, end, n, self.config.max_keys, now);
                (u64::from(n), end)
            }
            None => (0, now),
        }
    }

    /// A hit of weight `cost`: counted, then allowed while the window's hits are at most
    /// `limit`. Remaining or -1.
    pub(super) fn decide_fixed(&self, t: &mut Table, key: u64, cost: u64, now: u64) -> i64 {
        let (hits, _) = self.add_hits(t, key, cost, now);
        if hits > self.config.limit {
            t.stats.limited += 1;
            -1
        } else {
            t.stats.allowed += 1;
            (self.config.limit - hits) as i64
        }
    }

    /// What `penalty` and `reward` answer: the requests still allowed, or -1 when the next
    /// one would be refused.
    pub(super) fn remaining_fixed(&self, hits: u64) -> i64 {
        if hits >= self.config.limit {
            -1
        } else {
            (self.config.limit - hits) as i64
        }
    }

    /// Takes `n` hits back from `key`'s window (never below zero; the window keeps its end).
    pub(super) fn give_back(&self, t: &mut Table, key: u64, n: u64, now: u64) -> i64 {
        let n = n.min(MAX_LIMIT) as u32;
        let hits = match t.find(key) {
            Some(i) if t.slots[i as usize].tat > now => {
                let s = &mut t.slots[i as usize];
                s.hits = s.hits.saturating_sub(n);
                u64::from(s.hits)
            }
            _ => 0,
        };
        self.remaining_fixed(hits)
    }

    pub(super) fn state_fixed(&self, t: &Table, key: u64, now: u64) -> KeyState {
        let (hits, end, present) = match t.find(key) {
            Some(i) if t.slots[i as usize].tat > now => {
                let s = &t.slots[i as usize];
                (u64::from(s.hits), s.tat, true)
            }
            _ => (0, now, false),
        };
        let reset_ms = self.units_to_ms_ceil(end - now);
        KeyState {
            remaining: self.config.limit.saturating_sub(hits),
            retry_after_ms: if hits >= self.config.limit {
                reset_ms
            } else {
                0
            },
            reset_ms,
            present,
        }
    }

    /// Counts `n` hits of `key` (`n = 0` only reads) and returns the hits in its current
    /// window: express-rate-limit's `totalHits`. A GCRA limiter counts no hits: it returns
    /// 0 and changes nothing.
    pub fn hit(&self, key: &[u8], n: u64) -> u64 {
        if self.config.algorithm != Algorithm::FixedWindow {
            return 0;
        }
        let key = self.key_hash(key);
        let now = self.now_units();
        let mut t = self.lock();
        let hits = self.add_hits(&mut t, key, n, now).0;
        if n > 0 {
            // A counted hit is a decision, as `check` would have made it.
            if hits > self.config.limit {
                t.stats.limited += 1;
            } else {
                t.stats.allowed += 1;
            }
        }
        t.sweep(self.config.sweep_per_op, now);
        hits
    }

    /// The hits in `key`'s current window (0 when it has none, and with GCRA).
    pub fn hits(&self, key: &[u8]) -> u64 {
        self.hit(key, 0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::super::RateLimitConfig;
    use super::*;
    use crate::core::clock::FakeClock;

    fn fixed(limit: u64, window_ms: u64) -> (RateLimiter, Arc<FakeClock>) {
        let mut cfg = RateLimitConfig::new(limit, window_ms);
        cfg.algorithm = Algorithm::FixedWindow;
        let clock = Arc::new(FakeClock::new(1_000));
        let rl = RateLimiter::new(cfg, clock.clone()).expect("valid config");
        (rl, clock)
    }

    #[test]
    fn counts_every_hit_until_the_window_ends() {
        let (rl, clock) = fixed(2, 1_000);
        assert_eq!(rl.check(b"k"), 1);
        clock.advance(400);
        assert_eq!(rl.check(b"k"), 0);
        assert_eq!(rl.check(b"k"), -1);
        assert_eq!(rl.hit(b"k", 0), 3, "the refused hit counted too");
        assert_eq!(rl.hits(b"k"), 3);
        let st = rl.state(b"k");
        assert_eq!(
            (st.remaining, st.reset_ms, st.retry_after_ms),
            (0, 600, 600)
        );
        clock.advance(599);
        assert_eq!(rl.check(b"k"), -1, "no refill inside the window");
        clock.advance(1);
        assert_eq!(rl.check(b"k"), 1, "a new window starts from zero");
        assert_eq!(rl.reset_ms(b"k"), 1_000);
        assert_eq!(rl.hit(b"k", 2), 3);
        let s = rl.stats();
        assert_eq!(
            (s.allowed, s.limited),
            (3, 3),
            "hit() decides as check() does"
        );
    }

    #[test]
    fn reward_gives_hits_back_never_below_zero_and_keeps_the_window() {
        let (rl, clock) = fixed(3, 1_000);
        assert_eq!(rl.hit(b"k", 4), 4);
        assert_eq!(rl.reward(b"k", 1), -1, "3 hits: the next one is refused");
        assert_eq!(rl.reward(b"k", 5), 3);
        assert_eq!(rl.hits(b"k"), 0);
        assert!(
            rl.state(b"k").present,
            "a key at zero hits keeps its window"
        );
        clock.advance(500);
        assert_eq!(rl.penalty(b"k", 2), 1);
        assert_eq!(rl.reset_ms(b"k"), 500);
        assert_eq!(rl.reward(b"absent", 1), 3);
        assert!(!rl.state(b"absent").present);
        assert_eq!(rl.hit(b"absent", 0), 0, "reading creates nothing");
        assert!(!rl.state(b"absent").present);
    }

    #[test]
    fn ended_windows_are_swept_and_burst_is_refused() {
        let (rl, clock) = fixed(1, 100);
        for i in 0..100u32 {
            rl.check(&i.to_le_bytes());
        }
        clock.advance(100);
        assert_eq!(rl.sweep(1_000), 100);
        assert_eq!(rl.stats().keys, 0);
        let mut cfg = RateLimitConfig::new(5, 100);
        cfg.algorithm = Algorithm::FixedWindow;
        cfg.burst = 6;
        assert_eq!(
            cfg.validate(),
            Err(super::super::ConfigError::BurstFixedWindow)
        );
    }

    /// A plain model: per key, the hits and the end of its window, in milliseconds.
    #[derive(Default)]
    struct Model {
        keys: std::collections::HashMap<u8, (u64, u64)>,
    }

    impl Model {
        fn live(&self, k: u8, now: u64) -> Option<(u64, u64)> {
            self.keys.get(&k).copied().filter(|&(_, end)| end > now)
        }
        fn add(&mut self, k: u8, n: u64, now: u64, window: u64) -> u64 {
            let (hits, end) = self.live(k, now).unwrap_or((0, now + window));
            if n == 0 && self.live(k, now).is_none() {
                return 0;
            }
            self.keys.insert(k, (hits + n, end));
            hits + n
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Hit(u8, u64),
        GiveBack(u8, u64),
        Advance(u64),
        Sweep(usize),
    }

    proptest! {
        /// With room for every key, hits, give-backs, sweeps and time agree with the model.
        #[test]
        fn same_counts_as_a_plain_model(
            limit in 1u64..6,
            window_ms in 1u64..2_000,
            ops in proptest::collection::vec(prop_oneof![
                5 => (0u8..6, 0u64..3).prop_map(|(k, n)| Op::Hit(k, n)),
                1 => (0u8..6, 0u64..3).prop_map(|(k, n)| Op::GiveBack(k, n)),
                2 => (0u64..1_500).prop_map(Op::Advance),
                1 => (0usize..8).prop_map(Op::Sweep),
            ], 1..200),
        ) {
            let (rl, clock) = fixed(limit, window_ms);
            let mut m = Model::default();
            let mut now = 0u64;
            for op in ops {
                match op {
                    Op::Hit(k, n) => {
                        let want = m.add(k, n, now, window_ms);
                        prop_assert_eq!(rl.hit(&[k], n), want);
                    }
                    Op::GiveBack(k, n) => {
                        if let Some((hits, end)) = m.live(k, now) {
                            m.keys.insert(k, (hits.saturating_sub(n), end));
                        }
                        rl.reward(&[k], n);
                    }
                    Op::Advance(ms) => {
                        clock.advance(ms);
                        now += ms;
                    }
                    Op::Sweep(n) => {
                        rl.sweep(n);
                    }
                }
                for k in 0u8..6 {
                    let st = rl.state(&[k]);
                    let (hits, end) = m.live(k, now).unwrap_or((0, now));
                    prop_assert_eq!(rl.hits(&[k]), hits);
                    prop_assert_eq!(st.reset_ms, end - now, "key {} at {}", k, now);
                    prop_assert_eq!(st.remaining, limit.saturating_sub(hits));
                }
            }
        }
    }

    #[test]
    fn batch_counts_like_single_checks() {
        let (rl, _c) = fixed(2, 60_000);
        let mut out = [9i32; 4];
        assert_eq!(rl.check_batch(b"a\na\na\nb", &mut out), 4);
        assert_eq!(out, [1, 0, -1, 1]);
        assert_eq!(rl.hits(b"a"), 3);
    }
}

use super::*;
use crate::core::clock::{Clock, FakeClock};
use proptest::prelude::*;
use std::sync::Arc;

fn opts(max: usize) -> CacheOptions {
    CacheOptions {
        max,
        ..CacheOptions::default()
    }
}

fn cache(options: CacheOptions) -> (LruCache<u32, u32>, Arc<FakeClock>) {
    let clock = Arc::new(FakeClock::new(1_000));
    let c = LruCache::new(options, clock.clone()).expect("valid options");
    (c, clock)
}

#[test]
fn needs_a_bound() {
    let o = CacheOptions {
        max: 0,
        max_size: 0,
        ..CacheOptions::default()
    };
    let err = LruCache::<u32, u32>::new(o, Arc::new(FakeClock::new(0))).err();
    assert_eq!(err, Some(OptionsError::Unbounded));
}

#[test]
fn evicts_least_recently_used() {
    let (mut c, _) = cache(opts(3));
    c.track_removals(true);
    for k in 1..=3 {
        c.set(k, k * 10, 1, None);
    }
    assert_eq!(c.get(&1), Some(10));
    c.set(4, 40, 1, None);
    assert_eq!(c.take_removed(), vec![(2, 20, RemovalReason::Evict)]);
    assert_eq!(c.keys_by_recency(), vec![&4, &1, &3]);
    let s = c.stats();
    assert_eq!((s.hits, s.misses, s.evictions, s.size), (1, 0, 1, 3));
}

#[test]
fn peek_has_and_iter_do_not_reorder() {
    let (mut c, _) = cache(opts(3));
    for k in 1..=3 {
        c.set(k, k, 1, None);
    }
    assert_eq!(c.peek(&1), Some(&1));
    assert!(c.contains(&1));
    let seen: Vec<_> = c.iter().map(|(k, _)| *k).collect();
    assert_eq!(seen, vec![3, 2, 1]);
    c.set(4, 4, 1, None);
    assert!(!c.contains(&1), "1 stayed least recently used");
    assert_eq!(c.stats().hits, 0);
}

#[test]
fn byte_bound_evicts_until_it_fits_and_rejects_oversize() {
    let (mut c, _) = cache(CacheOptions {
        max: 100,
        max_size: 10,
        ..CacheOptions::default()
    });
    c.set(1, 1, 4, None);
    c.set(2, 2, 4, None);
    c.set(3, 3, 4, None);
    assert_eq!(c.keys_by_recency(), vec![&3, &2]);
    assert_eq!(c.bytes(), 8);
    assert_eq!(c.set(2, 22, 11, None), SetOutcome::Rejected(22));
    assert!(!c.contains(&2), "the replaced value is not served");
    assert_eq!(c.stats().rejected, 1);
    c.set(3, 33, 10, None);
    assert_eq!(c.keys_by_recency(), vec![&3]);
    assert_eq!(c.bytes(), 10);
}

#[test]
fn ttl_lazy_expiry_and_update_age_on_get() {
    let (mut c, clock) = cache(CacheOptions {
        max: 10,
        ttl_ms: 100,
        update_age_on_get: true,
        purge_step: 0,
        ..CacheOptions::default()
    });
    c.set(1, 1, 1, None);
    c.set(2, 2, 1, Some(0));
    c.set(3, 3, 1, Some(500));
    clock.advance(60);
    assert_eq!(c.get(&1), Some(1), "renews to t+160");
    clock.advance(60);
    assert_eq!(c.get(&1), Some(1));
    clock.advance(100);
    assert_eq!(c.get(&1), None);
    assert_eq!(c.get(&2), Some(2), "ttl 0 never expires");
    assert_eq!(c.get(&3), Some(3));
    let s = c.stats();
    assert_eq!((s.expirations, s.misses, s.size), (1, 1, 2));
}

#[test]
fn allow_stale_returns_once_then_removes() {
    let (mut c, clock) = cache(CacheOptions {
        max: 10,
        ttl_ms: 10,
        allow_stale: true,
        purge_step: 0,
        ..CacheOptions::default()
    });
    c.set(1, 1, 1, None);
    clock.advance(10);
    assert!(!c.contains(&1));
    assert_eq!(c.peek(&1), Some(&1));
    assert_eq!(c.get_with(&1, |v, stale| (*v, stale)), Some((1, true)));
    assert_eq!(c.get(&1), None);
}

#[test]
fn incremental_sweep_reclaims_expired_entries() {
    let (mut c, clock) = cache(CacheOptions {
        max: 1000,
        ttl_ms: 10,
        purge_step: 4,
        ..CacheOptions::default()
    });
    for k in 0..100 {
        c.set(k, k, 1, None);
    }
    clock.advance(10);
    // Each set examines 4 slots: about 100 / 4 sets (plus one lap of the cursor
    // over the slot it fills) cover the 100 dead ones.
    for k in 1000..1030 {
        c.set(k, k, 1, Some(0));
    }
    assert_eq!(c.len(), 30);
    assert_eq!(c.stats().expirations, 100);
}

#[test]
fn purge_stale_and_clear() {
    let (mut c, clock) = cache(CacheOptions {
        max: 100,
        ttl_ms: 10,
        purge_step: 0,
        ..CacheOptions::default()
    });
    for k in 0..10 {
        c.set(k, k, 1, if k < 5 { None } else { Some(0) });
    }
    clock.advance(10);
    assert_eq!(c.purge_stale(), 5);
    assert_eq!(c.len(), 5);
    c.clear();
    assert!(c.is_empty());
    assert_eq!((c.bytes(), c.stats().expirations), (0, 5));
    c.set(1, 1, 1, None);
    assert_eq!(c.get(&1), Some(1));
}

#[test]
fn same_millisecond_burst_never_exceeds_max() {
    let (mut c, _) = cache(CacheOptions {
        max: 10,
        ttl_ms: 1000,
        ..CacheOptions::default()
    });
    for k in 0..10_000 {
        c.set(k, k, 1, None);
        assert!(c.len() <= 10);
    }
    assert_eq!(c.len(), 10);
    assert_eq!(c.stats().evictions, 9_990);
    let keys: Vec<u32> = c.keys_by_recency().into_iter().copied().collect();
    assert_eq!(keys, (9_990..10_000).rev().collect::<Vec<_>>());
}

#[test]
fn string_keys_borrow_as_str_and_slices() {
    let clock = Arc::new(FakeClock::new(0));
    let mut c: LruCache<Box<[u8]>, String> = LruCache::new(opts(4), clock).expect("valid");
    c.insert(b"abc".to_vec().into_boxed_slice(), "x".to_owned());
    assert_eq!(c.get(&b"abc"[..]), Some("x".to_owned()));
    assert!(c.delete(&b"abc"[..]));
}

#[test]
fn advice_cache_is_send_sync_and_shared() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AdviceCache>();
    let clock = Arc::new(FakeClock::new(0));
    let cache = Arc::new(
        AdviceCache::new(
            CacheOptions {
                max: 50,
                ttl_ms: 86_400_000,
                ..CacheOptions::default()
            },
            clock,
        )
        .expect("valid"),
    );
    let handles: Vec<_> = (0..4u64)
        .map(|t| {
            let c = Arc::clone(&cache);
            std::thread::spawn(move || {
                for i in 0..1000u64 {
                    c.insert(t * 10_000 + i, format!("advice {i}"));
                    let _ = c.get(&(t * 10_000 + i / 2));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("no panic");
    }
    assert_eq!(cache.len(), 50);
    assert_eq!(cache.stats().hits + cache.stats().misses, 4000);
}

// ---- property tests against an exact reference model ----

#[derive(Debug, Clone)]
enum Op {
    Get(u8),
    Peek(u8),
    Has(u8),
    Delete(u8),
    Set(u8, u16, u8, Option<u8>),
    Advance(u8),
    Purge,
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0u8..12;
    prop_oneof![
        4 => k.clone().prop_map(Op::Get),
        1 => k.clone().prop_map(Op::Peek),
        1 => k.clone().prop_map(Op::Has),
        1 => k.clone().prop_map(Op::Delete),
        5 => (k, any::<u16>(), 0u8..12, proptest::option::of(0u8..40))
            .prop_map(|(k, v, s, t)| Op::Set(k, v, s, t)),
        1 => (0u8..30).prop_map(Op::Advance),
        1 => Just(Op::Purge),
    ]
}

/// Obviously correct LRU: a Vec ordered most recently used first, O(n) everything.
struct Model {
    entries: Vec<(u8, u16, u64, u64, u64)>, // key, value, size, expires_at, ttl
    o: CacheOptions,
    stats: CacheStats,
    log: Vec<(u8, u16, RemovalReason)>,
}

impl Model {
    fn pos(&self, k: u8) -> Option<usize> {
        self.entries.iter().position(|e| e.0 == k)
    }
    fn expired(e: &(u8, u16, u64, u64, u64), now: u64) -> bool {
        e.3 != NEVER && now >= e.3
    }
    fn remove(&mut self, i: usize, r: RemovalReason) {
        let e = self.entries.remove(i);
        match r {
            RemovalReason::Evict => self.stats.evictions += 1,
            RemovalReason::Expire => self.stats.expirations += 1,
            _ => {}
        }
        self.log.push((e.0, e.1, r));
    }
    fn bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.2).sum()
    }
    fn get(&mut self, k: u8, now: u64) -> Option<u16> {
        let Some(i) = self.pos(k) else {
            self.stats.misses += 1;
            return None;
        };
        if Self::expired(&self.entries[i], now) {
            self.stats.misses += 1;
            let v = self.entries[i].1;
            self.remove(i, RemovalReason::Expire);
            return self.o.allow_stale.then_some(v);
        }
        self.stats.hits += 1;
        let mut e = self.entries.remove(i);
        if self.o.update_age_on_get && e.4 != 0 {
            e.3 = now + e.4;
        }
        let v = e.1;
        self.entries.insert(0, e);
        Some(v)
    }
    fn set(&mut self, k: u8, v: u16, size: u64, ttl: Option<u64>, now: u64) {
        let ttl = ttl.unwrap_or(self.o.ttl_ms);
        if self.o.max_size != 0 && size > self.o.max_size {
            if let Some(i) = self.pos(k) {
                self.remove(i, RemovalReason::Delete);
            }
            self.stats.rejected += 1;
            return;
        }
        let exp = if ttl == 0 { NEVER } else { now + ttl };
        if let Some(i) = self.pos(k) {
            let old = self.entries.remove(i);
            self.log.push((k, old.1, RemovalReason::Set));
        } else {
            let max = if self.o.max == 0 {
                usize::MAX
            } else {
                self.o.max
            };
            while self.entries.len() >= max {
                let last = self.entries.len() - 1;
                self.remove(last, RemovalReason::Evict);
            }
        }
        self.entries.insert(0, (k, v, size, exp, ttl));
        if self.o.max_size != 0 {
            while self.bytes() > self.o.max_size && self.entries.len() > 1 {
                let last = self.entries.len() - 1;
                self.remove(last, RemovalReason::Evict);
            }
        }
    }
}

fn options() -> impl Strategy<Value = CacheOptions> {
    (
        0usize..6,
        prop_oneof![Just(0u64), 1u64..30],
        prop_oneof![Just(0u64), 1u64..40],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_filter("bounded", |(m, s, ..)| *m != 0 || *s != 0)
        .prop_map(
            |(max, max_size, ttl_ms, update_age_on_get, allow_stale)| CacheOptions {
                max,
                max_size,
                ttl_ms,
                update_age_on_get,
                allow_stale,
                purge_step: 0,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Without the background sweep, the cache is exactly the model: same results,
    /// same recency order, same removals in the same order, same counters.
    #[test]
    fn matches_exact_lru_model(o in options(), ops in proptest::collection::vec(op(), 1..200)) {
        let clock = Arc::new(FakeClock::new(0));
        let mut c: LruCache<u8, u16> = LruCache::new(o.clone(), clock.clone()).expect("bounded");
        c.track_removals(true);
        let mut m = Model { entries: Vec::new(), o: o.clone(), stats: CacheStats::default(), log: Vec::new() };
        for op in ops {
            let now = clock.now_ms();
            match op {
                Op::Get(k) => prop_assert_eq!(c.get(&k), m.get(k, now)),
                Op::Peek(k) => {
                    let want = m.pos(k).map(|i| m.entries[i])
                        .filter(|e| o.allow_stale || !Model::expired(e, now)).map(|e| e.1);
                    prop_assert_eq!(c.peek(&k).copied(), want);
                }
                Op::Has(k) => {
                    let want = m.pos(k).is_some_and(|i| !Model::expired(&m.entries[i], now));
                    prop_assert_eq!(c.contains(&k), want);
                }
                Op::Delete(k) => {
                    let want = m.pos(k).map(|i| m.remove(i, RemovalReason::Delete)).is_some();
                    prop_assert_eq!(c.delete(&k), want);
                }
                Op::Set(k, v, s, t) => {
                    let stored = c.set(k, v, u64::from(s), t.map(u64::from)) == SetOutcome::Stored;
                    m.set(k, v, u64::from(s), t.map(u64::from), now);
                    prop_assert_eq!(stored, m.pos(k).is_some());
                }
                Op::Advance(ms) => clock.advance(u64::from(ms)),
                Op::Purge => {
                    let expired: Vec<usize> = (0..m.entries.len()).rev()
                        .filter(|&i| Model::expired(&m.entries[i], now)).collect();
                    let n = expired.len();
                    for i in expired { m.remove(i, RemovalReason::Expire); }
                    prop_assert_eq!(c.purge_stale(), n);
                    // Purge walks slots, not recency: compare its removals as sets.
                    let mut got = c.take_removed();
                    let mut want = std::mem::take(&mut m.log);
                    got.sort_by_key(|e| e.0);
                    want.sort_by_key(|e| e.0);
                    prop_assert_eq!(got, want);
                }
            }
            prop_assert_eq!(c.take_removed(), std::mem::take(&mut m.log));
            let keys: Vec<u8> = c.keys_by_recency().into_iter().copied().collect();
            let want: Vec<u8> = m.entries.iter().map(|e| e.0).collect();
            prop_assert_eq!(keys, want);
            let fresh: Vec<(u8, u16)> = c.iter().map(|(k, v)| (*k, *v)).collect();
            let now = clock.now_ms();
            let want: Vec<(u8, u16)> = m.entries.iter()
                .filter(|e| o.allow_stale || !Model::expired(e, now)).map(|e| (e.0, e.1)).collect();
            prop_assert_eq!(fresh, want);
            let mut ms = m.stats;
            ms.size = m.entries.len() as u64;
            ms.bytes = m.bytes();
            prop_assert_eq!(c.stats(), ms);
        }
    }

    /// With the sweep on, removing dead entries early only changes what is held, never
    /// what is served: every value returned is the latest one set and not expired, and
    /// the bounds always hold.
    #[test]
    fn sweep_never_serves_wrong_or_dead_values(
        o in options(), step in 1usize..6, ops in proptest::collection::vec(op(), 1..200)
    ) {
        let o = CacheOptions { purge_step: step, allow_stale: false, ..o };
        let clock = Arc::new(FakeClock::new(0));
        let mut c: LruCache<u8, u16> = LruCache::new(o.clone(), clock.clone()).expect("bounded");
        let mut last: std::collections::HashMap<u8, (u16, u64)> = Default::default();
        for op in ops {
            let now = clock.now_ms();
            match op {
                Op::Get(k) => {
                    if let Some(v) = c.get(&k) {
                        let (want, exp) = last[&k];
                        prop_assert_eq!(v, want);
                        prop_assert!(o.update_age_on_get || now < exp);
                    }
                }
                Op::Set(k, v, s, t) => {
                    let ttl = t.map(u64::from).unwrap_or(o.ttl_ms);
                    c.set(k, v, u64::from(s), t.map(u64::from));
                    last.insert(k, (v, if ttl == 0 { NEVER } else { now + ttl }));
                }
                Op::Delete(k) => { c.delete(&k); }
                Op::Advance(ms) => clock.advance(u64::from(ms)),
                Op::Purge => { c.purge_stale(); }
                Op::Peek(_) | Op::Has(_) => {}
            }
            if o.max != 0 { prop_assert!(c.len() <= o.max); }
            if o.max_size != 0 { prop_assert!(c.bytes() <= o.max_size); }
            prop_assert_eq!(c.keys_by_recency().len(), c.len());
        }
    }
}

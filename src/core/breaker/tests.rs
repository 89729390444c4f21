//! Unit tests of the breaker's rules, window, histogram and mirror.

use super::histogram::{hist_bin, hist_value, HIST_BINS};
use super::*;
use crate::core::clock::{Clock, FakeClock, SharedClock};
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

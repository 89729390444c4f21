//! Tests of `SlotLru`.

use super::*;

impl<V> SlotLru<V> {
    fn take_removed(&mut self) -> (Vec<(u32, RemovalReason)>, Vec<V>) {
        let (mut slots, mut values) = (Vec::new(), Vec::new());
        self.drain_removed(&mut slots, &mut values);
        (slots, values)
    }
}

fn lru(max: usize, max_size: u64) -> SlotLru<u32> {
    SlotLru::new(SlotOptions {
        max,
        max_size,
        ..SlotOptions::default()
    })
}

#[test]
fn evicts_the_least_recently_used_and_reports_its_slot() {
    let mut c = lru(2, 0);
    let a = c.insert(1, 0, None, 0.0);
    let b = c.insert(2, 0, None, 0.0);
    assert_eq!(c.get_with(a, 0.0, |v, _| *v), Some(1));
    let d = c.insert(3, 0, None, 0.0);
    assert_eq!(c.removed(), &[(b, RemovalReason::Evict)]);
    // The freed slot is reused for the new entry.
    assert_eq!(d, b);
    assert_eq!(c.order(0.0), vec![(d, false), (a, false)]);
}

#[test]
fn size_bound_keeps_the_new_entry() {
    let mut c = lru(0, 10);
    let a = c.insert(1, 6, None, 0.0);
    let b = c.insert(2, 6, None, 0.0);
    assert_eq!(c.removed(), &[(a, RemovalReason::Evict)]);
    assert_eq!(c.total_size(), 6);
    assert!(c.has(b, 0.0));
}

#[test]
fn expires_when_age_exceeds_ttl() {
    let mut c = lru(10, 0);
    let a = c.insert(1, 0, Some(10.0), 100.0);
    assert!(c.has(a, 110.0));
    assert!(!c.has(a, 110.5));
    assert_eq!(c.get_with(a, 111.0, |v, _| *v), None);
    assert_eq!(c.removed(), &[(a, RemovalReason::Expire)]);
    assert_eq!(c.stats().expirations, 1);
}

#[test]
fn stale_get_answers_once() {
    let mut c = SlotLru::new(SlotOptions {
        max: 4,
        allow_stale: true,
        ..SlotOptions::default()
    });
    let a = c.insert(7u32, 0, Some(1.0), 0.0);
    assert_eq!(c.get_with(a, 5.0, |v, stale| (*v, stale)), Some((7, true)));
    assert_eq!(c.get_with(a, 5.0, |v, stale| (*v, stale)), None);
}

#[test]
fn hit_moves_to_front_and_counts() {
    let mut c = lru(2, 0);
    let a = c.insert(1, 0, None, 0.0);
    let b = c.insert(2, 0, None, 0.0);
    c.hit(a);
    c.hit(99);
    assert_eq!(c.stats().hits, 1);
    c.insert(3, 0, None, 0.0);
    assert_eq!(c.removed(), &[(b, RemovalReason::Evict)]);
}

#[test]
fn value_mut_changes_the_value_only() {
    let mut c = lru(2, 0);
    let a = c.insert(1, 0, None, 0.0);
    let b = c.insert(2, 0, None, 0.0);
    if let Some(v) = c.value_mut(a) {
        *v = 10;
    }
    assert_eq!(c.peek(a, 0.0, false), Some(&10));
    assert!(c.removed().is_empty());
    // `a` is still the least recently used: the next insert evicts it.
    c.insert(3, 0, None, 0.0);
    assert_eq!(c.removed(), &[(a, RemovalReason::Evict)]);
    assert_eq!(c.peek(b, 0.0, false), Some(&2));
    assert!(c.value_mut(99).is_none());
}

#[test]
fn replace_queues_the_old_value_when_tracked() {
    let mut c = lru(4, 0);
    c.track_values();
    let a = c.insert(1, 0, None, 0.0);
    assert!(c.replace(a, 2, 0, None, 0.0));
    let (slots, values) = c.take_removed();
    assert_eq!(slots, vec![(a, RemovalReason::Set)]);
    assert_eq!(values, vec![1]);
    assert!(!c.replace(99, 3, 0, None, 0.0));
}

#[test]
fn only_a_cache_bounded_by_ttl_alone_sweeps() {
    for (max, swept) in [(0, true), (10, false)] {
        let mut c = SlotLru::new(SlotOptions {
            max,
            ttl: 5.0,
            ..SlotOptions::default()
        });
        let a = c.insert(1u32, 0, None, 0.0);
        c.take_removed();
        for i in 0..8 {
            c.insert(i, 0, Some(0.0), 10.0);
        }
        let expired = c.take_removed().0.contains(&(a, RemovalReason::Expire));
        assert_eq!(expired, swept, "max {max}");
    }
}

#[test]
fn purge_and_clear_report_every_slot() {
    let mut c = lru(4, 0);
    let a = c.insert(1, 0, Some(5.0), 0.0);
    let b = c.insert(2, 0, None, 0.0);
    assert_eq!(c.purge_stale(10.0), 1);
    c.clear();
    assert_eq!(
        c.take_removed().0,
        vec![(a, RemovalReason::Expire), (b, RemovalReason::Delete)]
    );
    assert!(c.is_empty());
}

#[test]
fn lru_slots_lists_the_next_evictions_in_order() {
    let mut c = lru(3, 0);
    let a = c.insert(1, 0, None, 0.0);
    let b = c.insert(2, 0, None, 0.0);
    assert!(!c.is_full());
    let d = c.insert(3, 0, None, 0.0);
    assert!(c.is_full());
    c.hit(a);
    assert_eq!(c.lru_slots().collect::<Vec<_>>(), vec![b, d, a]);
}

#[test]
fn insert_over_evicts_that_slot_without_queueing_it_and_reuses_it() {
    let mut c = lru(2, 0);
    c.track_values();
    let a = c.insert(1, 0, None, 0.0);
    let b = c.insert(2, 0, Some(5.0), 0.0);
    assert!(c.insert_over(a, 3, 0, None, 7.0));
    assert!(c.take_removed().0.is_empty());
    assert_eq!(c.stats().evictions, 1);
    assert_eq!(c.len(), 2);
    assert_eq!(c.peek(a, 7.0, false), Some(&3));
    assert_eq!(c.timing(a), Some((0.0, 7.0)));
    // `a` is now the most recently used: `b` goes next.
    assert_eq!(c.lru_slots().collect::<Vec<_>>(), vec![b, a]);
    assert!(!c.insert_over(99, 4, 0, None, 0.0));
    assert_eq!(c.len(), 2);
}

//! The raw methods of a native cache handle (`createLruCache`'s object): one per operation
//! of lib/native/cache/core.js, each taking slot numbers and plain values, never a key.

use std::ptr;
use std::sync::atomic::Ordering;

use napi::sys;

use super::values::{read_string_value, read_value, Stored};
use super::{report, Handle, Inner, Listing, E_VALUE};
use crate::binding::options::MAX_SAFE;
use crate::binding::raw::{self, raw_method};
use crate::core::cache::RemovalReason;

/// The number at `argv[i]`, or `or` when absent or not a number.
///
/// # Safety
/// `env` must be valid for the running callback.
unsafe fn num<const N: usize>(env: sys::napi_env, a: &raw::CallArgs<N>, i: usize, or: f64) -> f64 {
    if i < a.argc {
        raw::get_f64(env, a.argv[i]).unwrap_or(or)
    } else {
        or
    }
}

/// A slot argument; `u32::MAX` (no slot) for anything else.
unsafe fn slot<const N: usize>(env: sys::napi_env, a: &raw::CallArgs<N>, i: usize) -> u32 {
    let s = num(env, a, i, -1.0);
    if s >= 0.0 && s < u32::MAX as f64 {
        s as u32
    } else {
        u32::MAX
    }
}

raw_method!(
    /// `get(slot, now?)` → the value (`null`: kept by JS) or `undefined`; an expired
    /// entry is removed (answered once with `allowStale`).
    get, 2, |env, a, h: &Handle| {
    let s = slot(env, &a, 0);
    let now = num(env, &a, 1, 0.0);
    let mut inner = h.lock();
    let out = inner.lru.get_with(s, now, |v, _| v.to_js(env));
    if let (Some(_), Some((ttl, start))) = (out, inner.lru.timing(s)) {
        h.timing[0].store(start.to_bits(), Ordering::Relaxed);
        h.timing[1].store(ttl.to_bits(), Ordering::Relaxed);
    }
    h.publish(&mut inner, Listing::Moved(s));
    out.unwrap_or_else(|| raw::undefined(env))
    }
);

raw_method!(
    /// `touch(slot, now?)` → `get` without making the value: `true` when found (made
    /// most recently used, counted as a hit), `undefined` when absent; an expired entry
    /// is removed and answers `true` only with `allowStale`. For values JS already holds
    /// a copy of (its memo of returned strings), so a hit makes no new string.
    touch, 2, |env, a, h: &Handle| {
    let s = slot(env, &a, 0);
    let now = num(env, &a, 1, 0.0);
    let mut inner = h.lock();
    let found = inner.lru.get_with(s, now, |_, _| ()).is_some();
    h.publish(&mut inner, Listing::Moved(s));
    if found {
        raw::bool_value(env, true)
    } else {
        raw::undefined(env)
    }
    }
);

/// Stores `value` as a new entry (`s` is `u32::MAX`) or as the new value of slot `s`, and
/// answers the entry's slot; throws when `s` holds no entry.
///
/// # Safety
/// `env` must be valid for the running callback.
#[allow(clippy::too_many_arguments)]
unsafe fn store(
    env: sys::napi_env,
    h: &Handle,
    inner: &mut Inner,
    s: u32,
    value: Stored,
    size: u64,
    ttl: Option<f64>,
    now: f64,
) -> sys::napi_value {
    let (out, what) = if s == u32::MAX {
        let slot = inner.lru.insert(value, size, ttl, now);
        (slot, Listing::Inserted(slot))
    } else if inner.lru.replace(s, value, size, ttl, now) {
        (s, Listing::Moved(s))
    } else {
        return raw::throw_type_error(env, E_VALUE, "LruCache: no entry at this slot");
    };
    h.publish(inner, what);
    raw::f64_value(env, f64::from(out))
}

raw_method!(
    /// `set(slot, value, size?, ttl?, now?)` → the entry's slot. A negative `slot` adds
    /// a new entry; otherwise the value of `slot` is replaced. `size` 0 = unsized; `ttl`
    /// undefined = the default, 0 = none. The caller refuses entries over `maxSize`.
    set, 5, |env, a, h: &Handle| {
    let Some(value) = read_value(env, a.argv[1]) else {
        return raw::throw_type_error(
            env,
            E_VALUE,
            "LruCache native values must be strings, Buffers or null",
        );
    };
    let value = value.counted();
    let (size, ttl, now) = if a.argc > 2 {
        let size = num(env, &a, 2, 0.0).clamp(0.0, MAX_SAFE as f64) as u64;
        let ttl = raw::get_f64(env, a.argv[3]).map(|t| if t.is_finite() { t.max(0.0) } else { 0.0 });
        (size, ttl, num(env, &a, 4, 0.0))
    } else {
        (0, None, 0.0)
    };
    let s = slot(env, &a, 0);
    let mut inner = h.lock();
    store(env, h, &mut inner, s, value, size, ttl, now)
    }
);

raw_method!(
    /// `applyHits()`: applies the hits and deferred sets JS recorded in `hits` (JS calls
    /// it when the buffer is full; every other call applies them first too, see
    /// `Handle::lock`).
    apply_hits, 0, |env, a, h: &Handle| {
    drop(h.lock());
    raw::undefined(env)
    }
);

raw_method!(
    /// `setHeld(slot, now?, adoptSlot?, adoptString?)` → the entry's slot: `set(slot,
    /// null, 0, undefined, now)` (a value JS keeps by reference, no size, the default TTL)
    /// without reading the arguments that call would pass as constants. With
    /// `adoptSlot`, first replaces that slot's by-reference marker by a copy of
    /// `adoptString` (see `adopt_into`), in the same call.
    set_held, 4, |env, a, h: &Handle| {
    let now = num(env, &a, 1, 0.0);
    let s = slot(env, &a, 0);
    let adopted = if a.argc > 3 && is_string(env, a.argv[3]) {
        Some((slot(env, &a, 2), read_string_value(env, a.argv[3]).counted()))
    } else {
        None
    };
    let mut inner = h.lock();
    if let Some((t, v)) = adopted {
        adopt_into(&mut inner, t, v);
    }
    store(env, h, &mut inner, s, Stored::Js, 0, None, now)
    }
);

/// Whether `v` is a string.
///
/// # Safety
/// `env` and `v` must be valid for the running callback.
unsafe fn is_string(env: sys::napi_env, v: sys::napi_value) -> bool {
    let mut t = 0;
    sys::napi_typeof(env, v, &mut t);
    t == sys::ValueType::napi_string
}

/// Replaces the by-reference marker of `slot` by `value` (already counted; dropped when
/// `slot` holds no marker): JS moves a young string off the heap this way
/// (lib/native/cache/young.js). Recency, TTL, size and counters do not change.
fn adopt_into(inner: &mut Inner, slot: u32, value: Stored) {
    if let Some(v) = inner.lru.value_mut(slot) {
        if matches!(v, Stored::Js) {
            *v = value;
        }
    }
}

raw_method!(
    /// `has(slot, now?)` → whether a fresh value is stored; no recency change.
    has, 2, |env, a, h: &Handle| {
    let fresh = h.lock().lru.has(slot(env, &a, 0), num(env, &a, 1, 0.0));
    raw::bool_value(env, fresh)
    }
);

raw_method!(
    /// `peek(slot, now?, allowStale?)` → the value without changing recency, or
    /// `undefined`.
    peek, 3, |env, a, h: &Handle| {
    let mut stale = false;
    if a.argc > 2 {
        sys::napi_get_value_bool(env, a.argv[2], &mut stale);
    }
    let inner = h.lock();
    match inner.lru.peek(slot(env, &a, 0), num(env, &a, 1, 0.0), stale) {
        Some(v) => v.to_js(env),
        None => raw::undefined(env),
    }
    }
);

fn reason_from(code: f64) -> RemovalReason {
    match code as i32 {
        report::EVICT => RemovalReason::Evict,
        report::EXPIRE => RemovalReason::Expire,
        report::SET => RemovalReason::Set,
        _ => RemovalReason::Delete,
    }
}

raw_method!(
    /// `delete(slot, reason?)` → whether the slot was in use (reason code as reported,
    /// default delete).
    delete, 2, |env, a, h: &Handle| {
    let reason = reason_from(num(env, &a, 1, 3.0));
    let mut inner = h.lock();
    let found = inner.lru.remove(slot(env, &a, 0), reason);
    h.publish(&mut inner, Listing::Removed);
    raw::bool_value(env, found)
    }
);

raw_method!(clear, 0, |env, a, h: &Handle| {
    let mut inner = h.lock();
    inner.lru.clear();
    h.publish(&mut inner, Listing::Removed);
    raw::undefined(env)
});

raw_method!(
    /// `purgeStale(now)` → how many expired entries were removed.
    purge_stale, 1, |env, a, h: &Handle| {
    let mut inner = h.lock();
    let n = inner.lru.purge_stale(num(env, &a, 0, 0.0));
    h.publish(&mut inner, Listing::Removed);
    raw::f64_value(env, n as f64)
    }
);

raw_method!(size, 0, |env, a, h: &Handle| {
    let n = h.lock().lru.len();
    raw::f64_value(env, n as f64)
});

raw_method!(total_size, 0, |env, a, h: &Handle| {
    let n = h.lock().lru.total_size();
    raw::f64_value(env, n as f64)
});

unsafe fn set_number(env: sys::napi_env, obj: sys::napi_value, name: &std::ffi::CStr, x: u64) {
    sys::napi_set_named_property(env, obj, name.as_ptr(), raw::f64_value(env, x as f64));
}

raw_method!(
    /// `stats()` → `{ hits, misses, evictions, expirations, size, bytes }` (JS adds the
    /// misses of keys it does not hold and its refusals).
    stats, 0, |env, a, h: &Handle| {
    let s = h.lock().lru.stats();
    let mut obj = ptr::null_mut();
    sys::napi_create_object(env, &mut obj);
    set_number(env, obj, c"hits", s.hits);
    set_number(env, obj, c"misses", s.misses);
    set_number(env, obj, c"evictions", s.evictions);
    set_number(env, obj, c"expirations", s.expirations);
    set_number(env, obj, c"size", s.size);
    set_number(env, obj, c"bytes", s.bytes);
    obj
    }
);

raw_method!(
    /// `order(now, withStale)` → used slots, most recently used first (expired ones only
    /// with `withStale`), without changing recency.
    order, 2, |env, a, h: &Handle| {
    let mut with_stale = false;
    if a.argc > 1 {
        sys::napi_get_value_bool(env, a.argv[1], &mut with_stale);
    }
    let slots = h.lock().lru.order(num(env, &a, 0, 0.0));
    let mut arr = ptr::null_mut();
    sys::napi_create_array(env, &mut arr);
    let mut i = 0u32;
    for (s, stale) in slots {
        if with_stale || !stale {
            sys::napi_set_element(env, arr, i, raw::f64_value(env, f64::from(s)));
            i += 1;
        }
    }
    arr
    }
);

raw_method!(
    /// `entryInfo(slot)` → `[ttl, start, size]` of a used slot (ttl 0: none), or
    /// `undefined`.
    entry_info, 1, |env, a, h: &Handle| {
    let inner = h.lock();
    let s = slot(env, &a, 0);
    match (inner.lru.timing(s), inner.lru.size_of(s)) {
        (Some((ttl, start)), Some(size)) => raw::array_of(
            env,
            &[
                raw::f64_value(env, ttl),
                raw::f64_value(env, start),
                raw::f64_value(env, size as f64),
            ],
        ),
        _ => raw::undefined(env),
    }
    }
);

raw_method!(
    /// `drain()`: shows the next waiting removals in the shared array (JS calls it while
    /// the array's `pending` count is not 0).
    drain, 0, |env, a, h: &Handle| {
    let mut inner = h.lock();
    h.report[0].store(0, Ordering::Relaxed);
    h.report[1].store(0, Ordering::Relaxed);
    h.publish(&mut inner, Listing::Kept);
    raw::undefined(env)
    }
);

raw_method!(
    /// `removedValues()` → the values of the removals shown in the shared array, in
    /// order (`null` for values kept by JS); only with `trackValues`.
    removed_values, 0, |env, a, h: &Handle| {
    let shown = std::mem::take(&mut h.lock().shown);
    let items: Vec<_> = shown.iter().map(|v| v.to_js(env)).collect();
    raw::array_of(env, &items)
    }
);

raw_method!(
    /// `probe(slot)`: reads the slot argument and does nothing else. The floor the
    /// benchmark measures a `get` against: the cost of one raw call taking a slot.
    probe, 1, |env, a, _h: &Handle| {
    let _ = slot(env, &a, 0);
    raw::undefined(env)
    }
);

/// The handle's methods, by the names lib/native/cache/core.js calls.
pub(super) const TABLE: [(&str, raw::RawCallback); 18] = [
    ("get", get),
    ("touch", touch),
    ("set", set),
    ("has", has),
    ("peek", peek),
    ("delete", delete),
    ("clear", clear),
    ("purgeStale", purge_stale),
    ("size", size),
    ("totalSize", total_size),
    ("stats", stats),
    ("order", order),
    ("entryInfo", entry_info),
    ("drain", drain),
    ("removedValues", removed_values),
    ("probe", probe),
    ("setHeld", set_held),
    ("applyHits", apply_hits),
];

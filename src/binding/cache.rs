//! Native half of `LruCache` (`lib/native/cache/`).
//!
//! JS keeps a `Map` from key to slot; this side keeps, per slot, the value, its size, its
//! TTL and its place in the recency order ([`SlotLru`]). A `get` is one raw N-API call
//! taking the slot number: no key crosses the boundary (reading a JS string key cost
//! 54-71 ns, about lru-cache's whole get). Raw callbacks (see `raw.rs`) cost 20-50 ns
//! where a napi-rs class method costs 300-400 ns of glue.
//!
//! Removals (evictions, expiries, deletes, replacements) are reported in an `Int32Array`
//! this side owns and JS reads without a call: `[count, pending, slot0, reason0, …]`.
//! JS drops the keys of those slots after each call; `pending` counts removals that did
//! not fit, fetched with `drain()`.
//!
//! Values: strings (stored as Latin-1 bytes when every UTF-16 unit fits in a byte, else
//! as UTF-16) and Buffers/TypedArrays live here, off the V8 heap; `null` marks a value JS
//! keeps by reference in its own array under the same slot (`get` answers `null` then).
//! Time is the caller's: methods that may compare an entry's age take `now` (ms) last.

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::Object;
use napi::{sys, Env, JsValue, Result};
use napi_derive::napi;
use serde::Deserialize;

mod values;

use values::{read_string_value, read_value, Stored};

use super::contract::cache_report as report;
use super::errors;
use super::options::{self, Int, MAX_SAFE};
use super::raw::{self, raw_method};
use crate::core::cache::{RemovalReason, SlotLru, SlotOptions};

/// Bytes of values held by all live native caches (`LruCache.nativeMemory()`).
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
/// Native caches not yet freed.
static LIVE_CACHES: AtomicI64 = AtomicI64::new(0);

const E_VALUE: &str = "ERR_QERRORS_CACHE_INVALID_VALUE";
const E_OPTION: &str = "ERR_QERRORS_CACHE_INVALID_OPTION";
const E_UNBOUNDED: &str = "ERR_QERRORS_CACHE_UNBOUNDED";

/// The cache and the removals not yet shown to JS.
struct Inner {
    lru: SlotLru<Stored>,
    /// Removals waiting for room in the shared array.
    queue: std::collections::VecDeque<(u32, RemovalReason)>,
    /// Their values, when tracked.
    queue_values: std::collections::VecDeque<Stored>,
    /// Values of the removals shown in the shared array now (for `removedValues`).
    shown: Vec<Stored>,
}

/// Hits JS may record before it must call `applyHits` (the buffer holds a count, then
/// the slots).
const HITS: usize = 256;

/// The state behind one JS cache object, shared by its raw methods.
struct Handle {
    inner: Mutex<Inner>,
    /// The shared removal report, viewed by JS as an `Int32Array`.
    report: Box<[AtomicI32]>,
    /// Hits JS answered from its memo without a call, `[count, slot, …]` (an
    /// `Int32Array`): applied in order under the lock before anything else, so recency
    /// and counters are what they would be had each hit been a call.
    hits: Box<[AtomicI32]>,
    /// `[start, ttl]` of the entry the last `get` found (a `Float64Array`), so JS can
    /// tell when a memoised string's entry expires.
    timing: Box<[AtomicU64]>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        LIVE_CACHES.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Handle {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No user code runs under the lock, so a poisoned lock is still consistent.
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let n = self.hits[0].load(Ordering::Relaxed).clamp(0, HITS as i32) as usize;
        if n != 0 {
            for h in &self.hits[1..=n] {
                inner.lru.hit(h.load(Ordering::Relaxed) as u32);
            }
            self.hits[0].store(0, Ordering::Relaxed);
        }
        inner
    }

    /// Moves queued removals into the shared array (JS has consumed what was there).
    fn publish(&self, inner: &mut Inner) {
        if !inner.lru.removed().is_empty() {
            let Inner {
                lru,
                queue,
                queue_values,
                ..
            } = inner;
            lru.drain_removed(queue, queue_values);
        }
        if inner.queue.is_empty() {
            return;
        }
        let n = inner.queue.len().min(report::PAIRS);
        for (i, (slot, reason)) in inner.queue.drain(..n).enumerate() {
            self.report[report::HEADER + 2 * i].store(slot as i32, Ordering::Relaxed);
            self.report[report::HEADER + 1 + 2 * i].store(reason_code(reason), Ordering::Relaxed);
        }
        let m = n.min(inner.queue_values.len());
        inner.shown = inner.queue_values.drain(..m).collect();
        self.report[0].store(n as i32, Ordering::Relaxed);
        self.report[1].store(inner.queue.len() as i32, Ordering::Relaxed);
    }
}

/// Reason codes in the shared array (`contract::cache_report`).
fn reason_code(r: RemovalReason) -> i32 {
    match r {
        RemovalReason::Evict => report::EVICT,
        RemovalReason::Expire => report::EXPIRE,
        RemovalReason::Set => report::SET,
        RemovalReason::Delete => report::DELETE,
    }
}

/// Options of `createLruCache`, read by the shared options reader.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LruOptions {
    /// Entries; 0 (or absent) means no entry bound.
    #[serde(default)]
    max: Int<0, { u32::MAX as u64 - 1 }>,
    /// Total size; 0 (or absent) means no size bound.
    #[serde(default)]
    max_size: Int<0, MAX_SAFE>,
    /// Default time to live in ms; 0 (or absent): entries do not expire.
    #[serde(default)]
    ttl: Int<0, MAX_SAFE>,
    #[serde(default)]
    update_age_on_get: bool,
    #[serde(default)]
    allow_stale: bool,
    /// Keep removed values for `removedValues` (used for `dispose`).
    #[serde(default)]
    track_values: bool,
}

/// Creates the native state of an `LruCache` and returns an object holding its methods
/// and the shared removal report (`removed`, an `Int32Array`).
///
/// Options: `max`, `maxSize`, `ttl` (non-negative integers; one of them required),
/// `updateAgeOnGet`, `allowStale`, `trackValues`.
#[napi(catch_unwind, ts_return_type = "LruCacheHandle")]
pub fn create_lru_cache<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "LruCacheOptions | undefined | null")] options: Option<Object<'env>>,
) -> Result<Object<'env>> {
    let Some(o) = options else {
        return errors::type_error(
            env,
            E_UNBOUNDED,
            "LruCache needs options with max or maxSize, e.g. { max: 1000 }",
        );
    };
    let parsed: LruOptions = options::read_type_errors(env, &o, E_OPTION, "options")?;
    // A TTL bounds a cache in time (expired entries are reclaimed by reads, the sweep on
    // each set and purgeStale); with no TTL either, nothing would.
    if parsed.max.0 == 0 && parsed.max_size.0 == 0 && parsed.ttl.0 == 0 {
        return errors::type_error(
            env,
            E_UNBOUNDED,
            "LruCache needs a bound: set max (entries), maxSize or ttl to a positive integer",
        );
    }
    let mut lru = SlotLru::new(SlotOptions {
        max: parsed.max.0 as usize,
        max_size: parsed.max_size.0,
        ttl: parsed.ttl.0 as f64,
        update_age_on_get: parsed.update_age_on_get,
        allow_stale: parsed.allow_stale,
    });
    if parsed.track_values {
        lru.track_values();
    }
    LIVE_CACHES.fetch_add(1, Ordering::Relaxed);
    let state = Arc::new(Handle {
        inner: Mutex::new(Inner {
            lru,
            queue: Default::default(),
            queue_values: Default::default(),
            shown: Vec::new(),
        }),
        report: (0..report::HEADER + 2 * report::PAIRS)
            .map(|_| AtomicI32::new(0))
            .collect(),
        hits: (0..=HITS).map(|_| AtomicI32::new(0)).collect(),
        timing: (0..2).map(|_| AtomicU64::new(0)).collect(),
    });
    let target = Object::new(env)?;
    raw::bind_methods(
        env,
        &target,
        &state,
        &[
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
        ],
    )?;
    share(
        env,
        &target,
        &state,
        c"removed",
        state.report.as_ptr().cast(),
        state.report.len(),
        sys::TypedarrayType::int32_array,
    )?;
    share(
        env,
        &target,
        &state,
        c"hits",
        state.hits.as_ptr().cast(),
        state.hits.len(),
        sys::TypedarrayType::int32_array,
    )?;
    share(
        env,
        &target,
        &state,
        c"timing",
        state.timing.as_ptr().cast(),
        state.timing.len(),
        sys::TypedarrayType::float64_array,
    )?;
    Ok(target)
}

/// Sets `target[name]` to a typed array of `len` elements of `kind` viewing `data`, memory
/// owned by `state`.
fn share(
    env: &Env,
    target: &Object,
    state: &Arc<Handle>,
    name: &std::ffi::CStr,
    data: *const c_void,
    len: usize,
    kind: sys::napi_typedarray_type,
) -> Result<()> {
    let width = if kind == sys::TypedarrayType::float64_array {
        8
    } else {
        4
    };
    // SAFETY: the array views memory owned by the Handle (`data` points into one of its
    // boxed slices, never reallocated); the finalizer drops the strong reference passed
    // as its hint, so the memory outlives the array.
    unsafe {
        let raw_env = env.raw();
        let hint = Arc::into_raw(Arc::clone(state)) as *mut c_void;
        let mut ab = ptr::null_mut();
        let status = sys::napi_create_external_arraybuffer(
            raw_env,
            data as *mut c_void,
            len * width,
            Some(release_report),
            hint,
            &mut ab,
        );
        if status != sys::Status::napi_ok {
            drop(Arc::from_raw(hint as *const Handle));
            return Err(napi::Error::from_reason("cannot share a native array"));
        }
        let mut arr = ptr::null_mut();
        sys::napi_create_typedarray(raw_env, kind, len, ab, 0, &mut arr);
        sys::napi_set_named_property(raw_env, target.raw(), name.as_ptr(), arr);
    }
    Ok(())
}

unsafe extern "C" fn release_report(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    drop(Arc::from_raw(hint as *const Handle));
}

/// Memory held by native caches in this process.
#[napi(object)]
pub struct LruCacheNativeMemory {
    /// Native caches not yet freed.
    pub caches: f64,
    /// Bytes of the values they hold.
    pub bytes: f64,
}

/// Memory held by all native caches of this process (a dropped cache's share returns
/// after its JS object is garbage-collected).
#[napi]
pub fn lru_cache_native_memory() -> LruCacheNativeMemory {
    LruCacheNativeMemory {
        caches: LIVE_CACHES.load(Ordering::Relaxed) as f64,
        bytes: LIVE_BYTES.load(Ordering::Relaxed) as f64,
    }
}

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
    h.publish(&mut inner);
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
    h.publish(&mut inner);
    if found {
        raw::bool_value(env, true)
    } else {
        raw::undefined(env)
    }
    }
);

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
    let out = if s == u32::MAX {
        inner.lru.insert(value, size, ttl, now)
    } else if inner.lru.replace(s, value, size, ttl, now) {
        s
    } else {
        return raw::throw_type_error(env, E_VALUE, "LruCache: no entry at this slot");
    };
    h.publish(&mut inner);
    raw::f64_value(env, f64::from(out))
    }
);

raw_method!(
    /// `applyHits()`: applies the hits JS recorded in `hits` (JS calls it when the
    /// buffer is full; every other call applies them first too, see `Handle::lock`).
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
    let out = if s == u32::MAX {
        inner.lru.insert(Stored::Js, 0, None, now)
    } else if inner.lru.replace(s, Stored::Js, 0, None, now) {
        s
    } else {
        return raw::throw_type_error(env, E_VALUE, "LruCache: no entry at this slot");
    };
    h.publish(&mut inner);
    raw::f64_value(env, f64::from(out))
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
    h.publish(&mut inner);
    raw::bool_value(env, found)
    }
);

raw_method!(clear, 0, |env, a, h: &Handle| {
    let mut inner = h.lock();
    inner.lru.clear();
    h.publish(&mut inner);
    raw::undefined(env)
});

raw_method!(
    /// `purgeStale(now)` → how many expired entries were removed.
    purge_stale, 1, |env, a, h: &Handle| {
    let mut inner = h.lock();
    let n = inner.lru.purge_stale(num(env, &a, 0, 0.0));
    h.publish(&mut inner);
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
    h.publish(&mut inner);
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

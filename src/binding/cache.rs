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
//!
//! Here: the handle, its options and its shared arrays; `methods.rs`: the raw methods;
//! `values.rs`: how values are stored and counted.

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::Object;
use napi::{sys, Env, JsValue, Result};
use napi_derive::napi;
use serde::Deserialize;

mod methods;
mod values;

use values::Stored;

use super::contract::cache_report as report;
use super::errors;
use super::options::{self, Int, MAX_SAFE};
use super::raw;
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
    /// The slots listed in `victims` (flagged in `listed`).
    published: Vec<u32>,
}

/// Hits and deferred sets JS may record before it must call `applyHits` (the buffer
/// holds a count, then the operations).
const HITS: usize = 256;

/// Victims listed at a time for deferred sets (a set makes a call once they are taken).
const VICTIMS: usize = 64;

/// Largest `max` whose cache defers sets (its `listed` flags take a byte per slot).
const MAX_DEFERRING: u64 = 1 << 20;

/// The state behind one JS cache object, shared by its raw methods.
struct Handle {
    inner: Mutex<Inner>,
    /// The shared removal report, viewed by JS as an `Int32Array`.
    report: Box<[AtomicI32]>,
    /// Operations JS made without a call, `[count, op, …]` (an `Int32Array`), applied in
    /// order under the lock before anything else, so recency and counters are what they
    /// would be had each been a call: `slot` (>= 0) a hit JS answered from its memo;
    /// `!slot` (< 0) a deferred set evicting the listed victim `slot` and storing a
    /// value JS keeps, at the time `op_times` holds at the same index.
    hits: Box<[AtomicI32]>,
    /// Times of the deferred sets in `hits` (a `Float64Array`, same indices).
    op_times: Box<[AtomicU64]>,
    /// The slots a deferred set may evict, least recently used first, `[next, end,
    /// slot…]` (an `Int32Array`): JS takes `slot[next]` and advances `next`. Listed by a
    /// set made by a call into a full cache (so by the call of a set that found the list
    /// used up); ended before a listed slot a call moves, and emptied by any removal,
    /// so the list is always the cache's next evictions.
    victims: Box<[AtomicI32]>,
    /// Per slot, 1 while listed in `victims` (a `Uint8Array`; empty when the cache does
    /// not defer sets). A hit on a listed slot is a call, since it reorders the list.
    listed: Box<[AtomicU8]>,
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
            for (op, t) in self.hits[1..=n].iter().zip(&self.op_times[1..=n]) {
                let op = op.load(Ordering::Relaxed);
                if op >= 0 {
                    inner.lru.hit(op as u32);
                } else {
                    let now = f64::from_bits(t.load(Ordering::Relaxed));
                    inner.lru.insert_over(!op as u32, Stored::Js, 0, None, now);
                }
            }
            self.hits[0].store(0, Ordering::Relaxed);
        }
        inner
    }

    /// Whether `slot` is listed in `victims`.
    fn is_listed(&self, slot: u32) -> bool {
        self.listed
            .get(slot as usize)
            .is_some_and(|f| f.load(Ordering::Relaxed) != 0)
    }

    /// Keeps `victims` the cache's next evictions after a call that did `what`.
    fn update_victims(&self, inner: &mut Inner, what: Listing) {
        if self.listed.is_empty() {
            return;
        }
        match what {
            Listing::Kept => {}
            // An entry that expired on the way was removed: the cache is not full.
            Listing::Moved(_) if !inner.lru.is_full() => self.unlist(inner, 0),
            Listing::Moved(slot) if self.is_listed(slot) => {
                // The listed slots before it are still the next evictions, in order.
                let next = self.victims[0].load(Ordering::Relaxed).max(0) as usize;
                if let Some(p) = inner.published.iter().skip(next).position(|&s| s == slot) {
                    self.unlist(inner, next + p);
                }
            }
            Listing::Moved(_) => {}
            Listing::Inserted(slot) if self.took_victim(slot) => {}
            Listing::Inserted(_) => {
                // Sets make the calls that list: a list used up is listed again here.
                self.unlist(inner, 0);
                if inner.lru.is_full() {
                    for (i, s) in inner.lru.lru_slots().take(VICTIMS).enumerate() {
                        self.victims[2 + i].store(s as i32, Ordering::Relaxed);
                        self.listed[s as usize].store(1, Ordering::Relaxed);
                        inner.published.push(s);
                    }
                    self.victims[1].store(inner.published.len() as i32, Ordering::Relaxed);
                }
            }
            Listing::Removed => self.unlist(inner, 0),
        }
    }

    /// Ends the list at index `from` (0: lists nothing, from the start).
    fn unlist(&self, inner: &mut Inner, from: usize) {
        for &s in inner.published.get(from..).unwrap_or_default() {
            self.listed[s as usize].store(0, Ordering::Relaxed);
        }
        inner.published.truncate(from);
        if from == 0 {
            self.victims[0].store(0, Ordering::Relaxed);
        }
        self.victims[1].store(from as i32, Ordering::Relaxed);
    }

    /// After an insert by a call into `slot`: when it evicted the next listed victim,
    /// takes it off the list as a deferred set would, and answers true.
    fn took_victim(&self, slot: u32) -> bool {
        let next = self.victims[0].load(Ordering::Relaxed);
        let listed_next = usize::try_from(next)
            .ok()
            .filter(|_| next < self.victims[1].load(Ordering::Relaxed))
            .and_then(|i| self.victims.get(2 + i));
        if listed_next.is_some_and(|v| v.load(Ordering::Relaxed) == slot as i32) {
            self.victims[0].store(next + 1, Ordering::Relaxed);
            if let Some(f) = self.listed.get(slot as usize) {
                f.store(0, Ordering::Relaxed);
            }
            return true;
        }
        false
    }

    /// Moves queued removals into the shared array (JS has consumed what was there),
    /// and keeps the victims listed right after a call that did `what`.
    fn publish(&self, inner: &mut Inner, what: Listing) {
        self.update_victims(inner, what);
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

/// What a call did to the recency order, for the victims listed (`Handle::victims`).
#[derive(Clone, Copy)]
enum Listing {
    /// Nothing that moves or removes a listed entry.
    Kept,
    /// Made `slot` the most recently used (a get, touch or replace), or removed it as
    /// expired.
    Moved(u32),
    /// Stored a new entry in `slot`, evicting the least recently used one when full.
    Inserted(u32),
    /// Removed entries: the cache is no longer full.
    Removed,
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
    /// List victims for deferred sets (`victims`, `listed`): only when `max` is at most
    /// `MAX_DEFERRING`.
    #[serde(default)]
    defer_sets: bool,
}

/// Creates the native state of an `LruCache` and returns an object holding its methods
/// and the shared removal report (`removed`, an `Int32Array`).
///
/// Options: `max`, `maxSize`, `ttl` (non-negative integers; one of them required),
/// `updateAgeOnGet`, `allowStale`, `trackValues`, `deferSets`.
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
    let listed = if parsed.defer_sets && parsed.max.0 > 0 && parsed.max.0 <= MAX_DEFERRING {
        parsed.max.0 as usize
    } else {
        0
    };
    LIVE_CACHES.fetch_add(1, Ordering::Relaxed);
    let state = Arc::new(Handle {
        inner: Mutex::new(Inner {
            lru,
            queue: Default::default(),
            queue_values: Default::default(),
            shown: Vec::new(),
            published: Vec::new(),
        }),
        report: (0..report::HEADER + 2 * report::PAIRS)
            .map(|_| AtomicI32::new(0))
            .collect(),
        hits: (0..=HITS).map(|_| AtomicI32::new(0)).collect(),
        op_times: (0..=HITS).map(|_| AtomicU64::new(0)).collect(),
        victims: (0..2 + VICTIMS).map(|_| AtomicI32::new(0)).collect(),
        listed: (0..listed).map(|_| AtomicU8::new(0)).collect(),
        timing: (0..2).map(|_| AtomicU64::new(0)).collect(),
    });
    let target = Object::new(env)?;
    raw::bind_methods(env, &target, &state, &methods::TABLE)?;
    let shared: [(
        &std::ffi::CStr,
        *const c_void,
        usize,
        sys::napi_typedarray_type,
    ); 6] = [
        (
            c"removed",
            state.report.as_ptr().cast(),
            state.report.len(),
            sys::TypedarrayType::int32_array,
        ),
        (
            c"hits",
            state.hits.as_ptr().cast(),
            state.hits.len(),
            sys::TypedarrayType::int32_array,
        ),
        (
            c"timing",
            state.timing.as_ptr().cast(),
            state.timing.len(),
            sys::TypedarrayType::float64_array,
        ),
        (
            c"opTimes",
            state.op_times.as_ptr().cast(),
            state.op_times.len(),
            sys::TypedarrayType::float64_array,
        ),
        (
            c"victims",
            state.victims.as_ptr().cast(),
            state.victims.len(),
            sys::TypedarrayType::int32_array,
        ),
        (
            c"listed",
            state.listed.as_ptr().cast(),
            state.listed.len(),
            sys::TypedarrayType::uint8_array,
        ),
    ];
    // An empty array is not shared (no memory to view): JS reads `listed` as absent.
    for (name, data, len, kind) in shared.into_iter().filter(|s| s.2 != 0) {
        share(env, &target, &state, name, data, len, kind)?;
    }
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
    let width = match kind {
        sys::TypedarrayType::float64_array => 8,
        sys::TypedarrayType::uint8_array => 1,
        _ => 4,
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

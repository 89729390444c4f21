//! Native half of `LruCache` (`lib/native/cache.js`).
//!
//! `createLruCache(options)` validates the options once and returns a plain object whose
//! methods are raw N-API callbacks (see `raw.rs`): a napi-rs class method costs
//! 300-400 ns of glue, a raw one 20-50 ns, and lru-cache does a whole get in ~100 ns.
//!
//! Strings cross as UTF-16 (V8's own units: exact for every JS string, lone surrogates
//! included, and faster to read than UTF-8) and are stored as Latin-1 bytes when every
//! unit fits in a byte, which is the common case and halves the memory.
//!
//! Values live off the V8 heap: copied into Rust memory on `set` and into a new JS
//! string (or Buffer, for Buffer/TypedArray values) on `get`. No JS object is created
//! per get/set/has/peek/delete. The choice against keeping values in a JS array indexed
//! by a native slot is measured in docs/lru-cache.md.

use std::cell::{Cell, RefCell};
use std::ptr;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::Object;
use napi::{sys, Env, Result};
use napi_derive::napi;
use serde::Deserialize;

use super::contract::cache_memo::SLOTS as MEMO_SLOTS;
use super::contract::cache_memo::{MAX_UNITS as MEMO_MAX_UNITS, MIN_UNITS as MEMO_MIN_UNITS};
use super::errors;
use super::keys::{fits_latin1, key_to_js, with_key, BadKey, ExactKey};
use super::options::{self, Int, MAX_SAFE};
use super::raw::{self, raw_method};
use crate::core::cache::{CacheOptions, RemovalReason, SetOutcome, SyncLruCache};
use crate::core::clock::{self, CoarseClock, FakeClock, SharedClock};

/// Bytes of keys and values held by all live native caches (the finalization test and
/// `LruCache.nativeMemory()` read it).
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
/// Native caches not yet freed.
static LIVE_CACHES: AtomicI64 = AtomicI64::new(0);

/// Scratch space kept between `set` calls for reading string values.
const SCRATCH_KEEP: usize = 64 * 1024;

/// The string memo shared with `lib/native/cache.js` (`MEMO_*`, see
/// `contract::cache_memo`): a `get` of an entry whose string JS still holds in its ring
/// returns the slot number instead of copying the value into a new string (for 1 KB that
/// copy is most of a get).
const NO_MEMO: u16 = u16::MAX;

const BAD_KEY: BadKey = (
    "ERR_QERRORS_CACHE_INVALID_KEY",
    "LruCache native keys must be strings",
);
const E_VALUE: &str = "ERR_QERRORS_CACHE_INVALID_VALUE";
const E_TTL: &str = "ERR_QERRORS_CACHE_INVALID_TTL";
const E_SIZE: &str = "ERR_QERRORS_CACHE_INVALID_SIZE";
const E_OPTION: &str = "ERR_QERRORS_CACHE_INVALID_OPTION";
const E_UNBOUNDED: &str = "ERR_QERRORS_CACHE_UNBOUNDED";
const E_NO_FAKE_CLOCK: &str = "ERR_QERRORS_CACHE_NO_FAKE_CLOCK";

/// A stored value, in the form cheapest to turn back into its JS value.
enum Data {
    /// A string whose UTF-16 units all fit in a byte.
    Latin1(Box<[u8]>),
    /// Any other string.
    Utf16(Box<[u16]>),
    /// A Buffer or TypedArray; comes back as a Buffer.
    Bytes(Box<[u8]>),
    /// A value kept by reference on the JS side (`lib/native/cache.js`), under this
    /// positive id; comes back as the negative id so it never reads as a memo slot.
    Ref(f64),
}

impl Data {
    fn byte_len(&self) -> usize {
        match self {
            Data::Latin1(b) | Data::Bytes(b) => b.len(),
            Data::Utf16(u) => u.len() * 2,
            Data::Ref(_) => 0,
        }
    }
}

struct Stored {
    data: Data,
    /// Key and value bytes added to `LIVE_BYTES` for this entry.
    counted: usize,
    /// Unique per `set` in this cache (from 1); ties a memo slot to this value.
    version: u64,
    /// The memo slot this value's last returned string went to, or `NO_MEMO`.
    memo: Cell<u16>,
}

impl Stored {
    fn new(data: Data, key_len: usize, version: u64) -> Self {
        let counted = data.byte_len() + key_len;
        LIVE_BYTES.fetch_add(counted as i64, Ordering::Relaxed);
        Self {
            data,
            counted,
            version,
            memo: Cell::new(NO_MEMO),
        }
    }

    /// Length in UTF-16 units when the value is a string.
    fn text_units(&self) -> Option<usize> {
        match &self.data {
            Data::Latin1(b) => Some(b.len()),
            Data::Utf16(u) => Some(u.len()),
            Data::Bytes(_) | Data::Ref(_) => None,
        }
    }

    /// # Safety
    /// `env` must be valid for the running callback.
    unsafe fn to_js(&self, env: sys::napi_env) -> sys::napi_value {
        let mut out = ptr::null_mut();
        match &self.data {
            Data::Latin1(b) => {
                sys::napi_create_string_latin1(env, b.as_ptr().cast(), b.len() as isize, &mut out);
            }
            Data::Utf16(u) => {
                sys::napi_create_string_utf16(env, u.as_ptr(), u.len() as isize, &mut out);
            }
            Data::Bytes(b) => {
                let mut data = ptr::null_mut();
                sys::napi_create_buffer_copy(env, b.len(), b.as_ptr().cast(), &mut data, &mut out);
            }
            Data::Ref(id) => out = raw::f64_value(env, -id),
        }
        out
    }
}

impl Drop for Stored {
    fn drop(&mut self) {
        LIVE_BYTES.fetch_sub(self.counted as i64, Ordering::Relaxed);
    }
}

/// Keys are the exact encodings made by `keys::with_key::<ExactKey>`; SipHash would cost ~15 ns per call,
/// so the hasher is hashbrown's seeded foldhash (V8 hashes Map keys with a seeded
/// non-cryptographic hash too).
type Cache = SyncLruCache<Box<[u8]>, Stored, hashbrown::DefaultHashBuilder>;

/// The state behind one JS cache object, shared by its raw methods.
struct Handle {
    cache: Cache,
    /// Present when the cache was created with `fakeClock: true` (tests).
    fake: Option<Arc<FakeClock>>,
    /// Source of `Stored::version`.
    next_version: AtomicU64,
    /// Version of the value whose string JS holds in each memo slot (0: none).
    memo: [AtomicU64; MEMO_SLOTS],
    /// Next memo slot to fill, in the same order as `lib/native/cache.js` fills its array.
    memo_next: AtomicUsize,
}

impl Drop for Handle {
    fn drop(&mut self) {
        LIVE_CACHES.fetch_sub(1, Ordering::Relaxed);
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
    /// Keep removed entries for `takeRemoved` (used for `dispose`).
    #[serde(default)]
    track_removals: bool,
    /// A clock moved by `advanceClock` (tests).
    #[serde(default)]
    fake_clock: bool,
}

fn parse_options(env: &Env, options: Option<Object<'_>>) -> Result<LruOptions> {
    let Some(o) = options else {
        return errors::type_error(
            env,
            E_UNBOUNDED,
            "LruCache needs options with max or maxSize, e.g. { max: 1000 }",
        );
    };
    let parsed: LruOptions = options::read_type_errors(env, &o, E_OPTION, "options")?;
    if parsed.max.0 == 0 && parsed.max_size.0 == 0 {
        return errors::type_error(
            env,
            E_UNBOUNDED,
            "LruCache needs a bound: set max (entries) or maxSize (bytes) to a positive integer",
        );
    }
    Ok(parsed)
}

/// Creates the native state of an `LruCache` and returns an object holding its methods.
///
/// Options: `max`, `maxSize`, `ttl` (non-negative integers; one of `max`/`maxSize`
/// required), `updateAgeOnGet`, `allowStale`, `trackRemovals` (keep removed entries for
/// `takeRemoved`, used for `dispose`), `fakeClock` (a clock moved by `advanceClock`).
#[napi(catch_unwind, ts_return_type = "LruCacheHandle")]
pub fn create_lru_cache<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "LruCacheOptions | undefined | null")] options: Option<Object<'env>>,
) -> Result<Object<'env>> {
    let parsed = parse_options(env, options)?;
    let core = CacheOptions {
        max: parsed.max.0 as usize,
        max_size: parsed.max_size.0,
        ttl_ms: parsed.ttl.0,
        update_age_on_get: parsed.update_age_on_get,
        allow_stale: parsed.allow_stale,
        ..CacheOptions::default()
    };
    let (clock, fake): (SharedClock, _) = if parsed.fake_clock {
        let f = Arc::new(FakeClock::new(0));
        (f.clone(), Some(f))
    } else {
        (Arc::new(CoarseClock::new()), None)
    };
    let cache = match Cache::with_hasher(core, clock, hashbrown::DefaultHashBuilder::default()) {
        Ok(c) => c,
        Err(e) => return errors::type_error(env, E_UNBOUNDED, &e.to_string()),
    };
    if parsed.track_removals {
        cache.lock().track_removals(true);
    }
    LIVE_CACHES.fetch_add(1, Ordering::Relaxed);
    let state = Arc::new(Handle {
        cache,
        fake,
        next_version: AtomicU64::new(1),
        memo: std::array::from_fn(|_| AtomicU64::new(0)),
        memo_next: AtomicUsize::new(0),
    });
    let target = Object::new(env)?;
    raw::bind_methods(
        env,
        &target,
        &state,
        &[
            ("get", get),
            ("set", set),
            ("has", has),
            ("peek", peek),
            ("delete", delete),
            ("clear", clear),
            ("purgeStale", purge_stale),
            ("size", size),
            ("bytes", bytes),
            ("stats", stats),
            ("list", list),
            ("takeRemoved", take_removed),
            ("trackRemovals", track_removals),
            ("advanceClock", advance_clock),
        ],
    )?;
    Ok(target)
}

/// Memory held by native caches in this process.
#[napi(object)]
pub struct LruCacheNativeMemory {
    /// Native caches not yet freed.
    pub caches: f64,
    /// Bytes of keys and values they hold.
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

thread_local! {
    static SCRATCH: RefCell<Vec<u16>> = const { RefCell::new(Vec::new()) };
}

/// Copies a JS string into Rust memory, as Latin-1 when every unit fits in a byte.
///
/// # Safety
/// `env` and `v` must be valid for the running callback and `v` a string.
unsafe fn read_string_value(env: sys::napi_env, v: sys::napi_value) -> Data {
    SCRATCH.with(|cell| {
        let mut s = cell.borrow_mut();
        s.clear();
        s.reserve(1024);
        // One read into the scratch space as it is; N-API writes at most capacity - 1
        // units plus a NUL, so a full buffer may be cut: then ask the length (O(1) in
        // UTF-16 units) and read again.
        let mut n = 0usize;
        sys::napi_get_value_string_utf16(env, v, s.as_mut_ptr(), s.capacity(), &mut n);
        if n + 1 >= s.capacity() {
            let mut len = 0usize;
            sys::napi_get_value_string_utf16(env, v, ptr::null_mut(), 0, &mut len);
            s.reserve(len + 1);
            sys::napi_get_value_string_utf16(env, v, s.as_mut_ptr(), len + 1, &mut n);
        }
        // SAFETY: N-API initialized the first `n` units of the capacity.
        s.set_len(n);
        let data = if fits_latin1(&s) {
            let mut bytes = vec![0u8; s.len()].into_boxed_slice();
            for (b, &u) in bytes.iter_mut().zip(s.iter()) {
                *b = u as u8;
            }
            Data::Latin1(bytes)
        } else {
            Data::Utf16(Box::from(&s[..]))
        };
        if s.capacity() > SCRATCH_KEEP {
            *s = Vec::new();
        }
        data
    })
}

/// Reads the value argument: a string, a Buffer or a TypedArray, or a positive number
/// (the id of a value the JS side keeps by reference).
///
/// # Safety
/// `env` and `v` must be valid for the running callback.
unsafe fn read_value(env: sys::napi_env, v: sys::napi_value) -> Option<Data> {
    let mut t = 0;
    sys::napi_typeof(env, v, &mut t);
    if t == sys::ValueType::napi_string {
        return Some(read_string_value(env, v));
    }
    if t == sys::ValueType::napi_number {
        return raw::get_f64(env, v)
            .filter(|id| *id >= 1.0 && *id <= MAX_SAFE as f64)
            .map(Data::Ref);
    }
    raw::bytes(env, v).map(|b| Data::Bytes(Box::from(b)))
}

/// `undefined` → `Ok(None)`; a number ≥ 0 → milliseconds (Infinity = no expiry).
///
/// # Safety
/// `env` and `v` must be valid for the running callback.
unsafe fn read_ttl(env: sys::napi_env, v: sys::napi_value) -> std::result::Result<Option<u64>, ()> {
    let mut t = 0;
    sys::napi_typeof(env, v, &mut t);
    if t == sys::ValueType::napi_undefined {
        return Ok(None);
    }
    match raw::get_f64(env, v) {
        Some(x) if x == f64::INFINITY => Ok(Some(0)),
        Some(x) if x >= 0.0 => Ok(Some(x.ceil() as u64)),
        Some(x) => {
            raw::throw_type_error(
                env,
                E_TTL,
                &format!("ttl must be a non-negative number of milliseconds, got {x}"),
            );
            Err(())
        }
        None => {
            raw::throw_type_error(env, E_TTL, "ttl must be a number of milliseconds");
            Err(())
        }
    }
}

/// `undefined` → `Ok(None)`; otherwise a positive safe integer.
///
/// # Safety
/// `env` and `v` must be valid for the running callback.
unsafe fn read_size(
    env: sys::napi_env,
    v: sys::napi_value,
) -> std::result::Result<Option<u64>, ()> {
    let mut t = 0;
    sys::napi_typeof(env, v, &mut t);
    if t == sys::ValueType::napi_undefined {
        return Ok(None);
    }
    match raw::get_f64(env, v) {
        Some(x) if (1.0..=MAX_SAFE as f64).contains(&x) && x.fract() == 0.0 => Ok(Some(x as u64)),
        Some(x) => {
            raw::throw_type_error(
                env,
                E_SIZE,
                &format!("size must be a positive integer, got {x}"),
            );
            Err(())
        }
        None => {
            raw::throw_type_error(env, E_SIZE, "size must be a number");
            Err(())
        }
    }
}

raw_method!(
    /// `get(key)` → the value, `undefined`, or the number of the memo slot where JS holds
    /// this value's string already (see `MEMO_SLOTS`).
    get, 1, |env, a, h: &Handle| {
    with_key::<ExactKey>(env, a.argv[0], BAD_KEY, |key| {
        let found = h.cache.lock().get_with(key, |v, stale| {
            if let Some(units) = v.text_units() {
                let slot = v.memo.get();
                if !stale
                    && slot != NO_MEMO
                    && h.memo[usize::from(slot)].load(Ordering::Relaxed) == v.version
                {
                    return raw::i32_value(env, i32::from(slot));
                }
                if (MEMO_MIN_UNITS..=MEMO_MAX_UNITS).contains(&units) {
                    // JS stores this string at the next ring slot; a stale value is
                    // removed right after, so its slot is marked as holding nothing.
                    let next = h.memo_next.fetch_add(1, Ordering::Relaxed) % MEMO_SLOTS;
                    h.memo[next].store(if stale { 0 } else { v.version }, Ordering::Relaxed);
                    v.memo.set(if stale { NO_MEMO } else { next as u16 });
                }
            }
            v.to_js(env)
        });
        found.unwrap_or_else(|| raw::undefined(env))
    })
    }
);

raw_method!(
    /// `set(key, value, ttl?, size?)` → `true` when stored, `false` when rejected because
    /// the entry alone exceeds `maxSize` (counted in `stats().rejected`).
    set, 4, |env, a, h: &Handle| {
    with_key::<ExactKey>(env, a.argv[0], BAD_KEY, |key| {
        let Some(data) = read_value(env, a.argv[1]) else {
            return raw::throw_type_error(
                env,
                E_VALUE,
                "LruCache native values must be strings, Buffers or reference ids",
            );
        };
        // The facade passes only key and value when there are no options: two
        // N-API type checks saved on the common path.
        let (ttl, size) = if a.argc > 2 {
            let Ok(ttl) = read_ttl(env, a.argv[2]) else {
                return ptr::null_mut();
            };
            let Ok(size) = read_size(env, a.argv[3]) else {
                return ptr::null_mut();
            };
            (ttl, size)
        } else {
            (None, None)
        };
        // Default size: the bytes stored for key (less its tag) and value.
        let size = size.unwrap_or((key.len() - 1 + data.byte_len()) as u64);
        let version = h.next_version.fetch_add(1, Ordering::Relaxed);
        let value = Stored::new(data, key.len(), version);
        let outcome = h.cache.lock().set(Box::from(key), value, size, ttl);
        raw::bool_value(env, matches!(outcome, SetOutcome::Stored))
    })
    }
);

raw_method!(
    /// `has(key)` → whether a fresh value is stored; no recency change.
    has, 1, |env, a, h: &Handle| {
    with_key::<ExactKey>(env, a.argv[0], BAD_KEY, |key| {
        raw::bool_value(env, h.cache.lock().contains(key))
    })
    }
);

raw_method!(
    /// `peek(key)` → the value without changing recency, or `undefined`.
    peek, 1, |env, a, h: &Handle| {
    with_key::<ExactKey>(env, a.argv[0], BAD_KEY, |key| {
        let c = h.cache.lock();
        match c.peek(key) {
            Some(v) => v.to_js(env),
            None => raw::undefined(env),
        }
    })
    }
);

raw_method!(
    /// `delete(key)` → whether the key was present.
    delete, 1, |env, a, h: &Handle| {
    with_key::<ExactKey>(env, a.argv[0], BAD_KEY, |key| {
        raw::bool_value(env, h.cache.lock().delete(key))
    })
    }
);

raw_method!(clear, 0, |env, a, h: &Handle| {
    h.cache.lock().clear();
    raw::undefined(env)
});

raw_method!(
    /// `purgeStale()` → how many expired entries were removed.
    purge_stale, 0, |env, a, h: &Handle| {
    let n = h.cache.lock().purge_stale();
    raw::f64_value(env, n as f64)
    }
);

raw_method!(size, 0, |env, a, h: &Handle| {
    let n = h.cache.lock().len();
    raw::f64_value(env, n as f64)
});

raw_method!(bytes, 0, |env, a, h: &Handle| {
    let n = h.cache.lock().bytes();
    raw::f64_value(env, n as f64)
});

unsafe fn set_number(env: sys::napi_env, obj: sys::napi_value, name: &std::ffi::CStr, x: u64) {
    sys::napi_set_named_property(env, obj, name.as_ptr(), raw::f64_value(env, x as f64));
}

raw_method!(
    /// `stats()` → `{ hits, misses, evictions, expirations, rejected, size, bytes }`.
    stats, 0, |env, a, h: &Handle| {
    let s = h.cache.lock().stats();
    let mut obj = ptr::null_mut();
    sys::napi_create_object(env, &mut obj);
    set_number(env, obj, c"hits", s.hits);
    set_number(env, obj, c"misses", s.misses);
    set_number(env, obj, c"evictions", s.evictions);
    set_number(env, obj, c"expirations", s.expirations);
    set_number(env, obj, c"rejected", s.rejected);
    set_number(env, obj, c"size", s.size);
    set_number(env, obj, c"bytes", s.bytes);
    obj
    }
);

raw_method!(
    /// `list(mode)` → fresh entries, most recently used first, without changing recency:
    /// mode 0 keys, 1 values, 2 `[key0, value0, key1, value1, …]`.
    list, 1, |env, a, h: &Handle| {
    let mode = raw::get_f64(env, a.argv[0]).unwrap_or(0.0) as u32;
    let c = h.cache.lock();
    let mut arr = ptr::null_mut();
    sys::napi_create_array(env, &mut arr);
    let mut i = 0u32;
    for (k, v) in c.iter() {
        if mode != 1 {
            sys::napi_set_element(env, arr, i, key_to_js(env, k));
            i += 1;
        }
        if mode != 0 {
            sys::napi_set_element(env, arr, i, v.to_js(env));
            i += 1;
        }
    }
    arr
    }
);

fn reason_name(r: RemovalReason) -> &'static str {
    match r {
        RemovalReason::Evict => "evict",
        RemovalReason::Expire => "expire",
        RemovalReason::Set => "set",
        RemovalReason::Delete => "delete",
    }
}

raw_method!(
    /// `takeRemoved()` → `[key, value, reason, …]` removed since the last call, or
    /// `undefined` when none (only with `trackRemovals`).
    take_removed, 0, |env, a, h: &Handle| {
    // Taken under the lock, turned into JS values after it: nothing here runs JS,
    // but the caller's dispose callback will, and it may use the cache again.
    let removed = {
        let mut c = h.cache.lock();
        if !c.has_removed() {
            return raw::undefined(env);
        }
        c.take_removed()
    };
    let mut arr = ptr::null_mut();
    sys::napi_create_array_with_length(env, removed.len() * 3, &mut arr);
    for (i, (k, v, r)) in removed.iter().enumerate() {
        let base = (i * 3) as u32;
        sys::napi_set_element(env, arr, base, key_to_js(env, k));
        sys::napi_set_element(env, arr, base + 1, v.to_js(env));
        sys::napi_set_element(env, arr, base + 2, raw::string_value(env, reason_name(*r)));
    }
    arr
    }
);

raw_method!(
    /// `trackRemovals()`: from now on keep removed entries for `takeRemoved` (the JS side
    /// turns this on once it holds a value or key by reference, to drop it on removal).
    track_removals, 0, |env, _a, h: &Handle| {
    h.cache.lock().track_removals(true);
    raw::undefined(env)
    }
);

raw_method!(
    /// `advanceClock(ms)` → the fake clock's new time (only with `fakeClock: true`).
    advance_clock, 1, |env, a, h: &Handle| {
    let Some(fake) = &h.fake else {
        return raw::throw_error(
            env,
            E_NO_FAKE_CLOCK,
            "advanceClock needs a cache created with { fakeClock: true }",
        );
    };
    match raw::get_f64(env, a.argv[0]) {
        Some(ms) if ms >= 0.0 && ms.is_finite() => {
            fake.advance(ms as u64);
            raw::f64_value(env, clock::Clock::now_ms(fake.as_ref()) as f64)
        }
        _ => raw::throw_range_error(env, E_TTL, "advanceClock(ms) needs a finite ms >= 0"),
    }
    }
);

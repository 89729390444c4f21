//! Native half of `LruCache` (`lib/lruCache.js`).
//!
//! `createLruCache(options)` validates the options once and returns a plain object whose
//! methods are raw N-API callbacks (see `raw.rs`): a napi-rs class method costs
//! 300-400 ns of glue, a raw one 20-50 ns, and lru-cache does a whole get in ~100 ns.
//!
//! Values live off the V8 heap: a string is copied once into Rust memory on `set` (as
//! UTF-8, flagged when it is pure ASCII so `get` can rebuild it with the cheaper Latin-1
//! constructor) and copied once back into a new JS string on `get`; a Buffer (or any
//! TypedArray) comes back as a new Buffer. No JS object is created per get/set/has/peek/
//! delete. The choice against keeping values in a JS array indexed by a native slot is
//! measured in `benchmark/results/lru-cache.md`.

use std::ptr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::{Object, Unknown};
use napi::{sys, Env, Result, ValueType};
use napi_derive::napi;

use super::errors;
use super::raw::{self, StrRead};
use crate::core::cache::{CacheOptions, RemovalReason, SetOutcome, SyncLruCache};
use crate::core::clock::{self, FakeClock, SharedClock};

/// Bytes of keys and values held by all live native caches (the finalization test and
/// `LruCache.nativeMemory()` read it).
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
/// Native caches not yet freed.
static LIVE_CACHES: AtomicI64 = AtomicI64::new(0);

/// Keys up to this many UTF-8 bytes are read into a stack buffer without allocating.
const KEY_STACK: usize = 256;
/// Largest integer a JS number holds exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

const KIND_ASCII: u8 = 0;
const KIND_UTF8: u8 = 1;
const KIND_BUFFER: u8 = 2;

const E_KEY: &str = "ERR_QERRORS_CACHE_INVALID_KEY";
const E_VALUE: &str = "ERR_QERRORS_CACHE_INVALID_VALUE";
const E_TTL: &str = "ERR_QERRORS_CACHE_INVALID_TTL";
const E_SIZE: &str = "ERR_QERRORS_CACHE_INVALID_SIZE";
const E_OPTION: &str = "ERR_QERRORS_CACHE_INVALID_OPTION";
const E_UNBOUNDED: &str = "ERR_QERRORS_CACHE_UNBOUNDED";
const E_NO_FAKE_CLOCK: &str = "ERR_QERRORS_CACHE_NO_FAKE_CLOCK";

/// A stored value: its bytes and how to turn them back into a JS value.
struct Stored {
    bytes: Box<[u8]>,
    kind: u8,
    /// Key and value bytes added to `LIVE_BYTES` for this entry.
    counted: usize,
}

impl Stored {
    fn new(bytes: Box<[u8]>, kind: u8, key_len: usize) -> Self {
        let counted = bytes.len() + key_len;
        LIVE_BYTES.fetch_add(counted as i64, Ordering::Relaxed);
        Self {
            bytes,
            kind,
            counted,
        }
    }

    /// # Safety
    /// `env` must be valid for the running callback.
    unsafe fn to_js(&self, env: sys::napi_env) -> sys::napi_value {
        let mut out = ptr::null_mut();
        let (p, len) = (self.bytes.as_ptr(), self.bytes.len());
        match self.kind {
            KIND_ASCII => {
                sys::napi_create_string_latin1(env, p.cast(), len as isize, &mut out);
            }
            KIND_UTF8 => {
                sys::napi_create_string_utf8(env, p.cast(), len as isize, &mut out);
            }
            _ => {
                let mut data = ptr::null_mut();
                sys::napi_create_buffer_copy(env, len, p.cast(), &mut data, &mut out);
            }
        }
        out
    }
}

impl Drop for Stored {
    fn drop(&mut self) {
        LIVE_BYTES.fetch_sub(self.counted as i64, Ordering::Relaxed);
    }
}

type Cache = SyncLruCache<Box<[u8]>, Stored>;

/// The state behind one JS cache object, shared by its raw methods.
struct Handle {
    cache: Cache,
    /// Present when the cache was created with `fakeClock: true` (tests).
    fake: Option<Arc<FakeClock>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        LIVE_CACHES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Options after validation.
struct Parsed {
    core: CacheOptions,
    track_removals: bool,
    fake_clock: bool,
}

fn option_value<'e>(o: &Object<'e>, name: &str) -> Result<Option<(Unknown<'e>, ValueType)>> {
    match o.get::<Unknown>(name)? {
        Some(v) => {
            let t = v.get_type()?;
            Ok(Some((v, t)))
        }
        None => Ok(None),
    }
}

fn option_int(env: &Env, o: &Object<'_>, name: &str, max: f64) -> Result<u64> {
    let Some((v, t)) = option_value(o, name)? else {
        return Ok(0);
    };
    if t != ValueType::Number {
        return errors::type_error(env, E_OPTION, &format!("options.{name} must be a number"));
    }
    // SAFETY: the value was just checked to be a number.
    let x: f64 = unsafe { v.cast()? };
    if !(x >= 0.0 && x <= max && x.fract() == 0.0) {
        return errors::range_error(
            env,
            E_OPTION,
            &format!("options.{name} must be an integer from 0 to {max}, got {x}"),
        );
    }
    Ok(x as u64)
}

fn option_bool(env: &Env, o: &Object<'_>, name: &str) -> Result<bool> {
    match option_value(o, name)? {
        None => Ok(false),
        // SAFETY: the value was just checked to be a boolean.
        Some((v, ValueType::Boolean)) => unsafe { v.cast() },
        Some(_) => errors::type_error(env, E_OPTION, &format!("options.{name} must be a boolean")),
    }
}

fn parse_options(env: &Env, options: Option<Object<'_>>) -> Result<Parsed> {
    let Some(o) = options else {
        return errors::type_error(
            env,
            E_UNBOUNDED,
            "LruCache needs options with max or maxSize, e.g. { max: 1000 }",
        );
    };
    let max = option_int(env, &o, "max", f64::from(u32::MAX - 1))?;
    let max_size = option_int(env, &o, "maxSize", MAX_SAFE)?;
    let ttl_ms = option_int(env, &o, "ttl", MAX_SAFE)?;
    if max == 0 && max_size == 0 {
        return errors::type_error(
            env,
            E_UNBOUNDED,
            "LruCache needs a bound: set max (entries) or maxSize (bytes) to a positive integer",
        );
    }
    Ok(Parsed {
        core: CacheOptions {
            max: max as usize,
            max_size,
            ttl_ms,
            update_age_on_get: option_bool(env, &o, "updateAgeOnGet")?,
            allow_stale: option_bool(env, &o, "allowStale")?,
            ..CacheOptions::default()
        },
        track_removals: option_bool(env, &o, "trackRemovals")?,
        fake_clock: option_bool(env, &o, "fakeClock")?,
    })
}

/// Creates the native state of an `LruCache` and returns an object holding its methods.
///
/// Options: `max`, `maxSize`, `ttl` (non-negative integers; one of `max`/`maxSize`
/// required), `updateAgeOnGet`, `allowStale`, `trackRemovals` (keep removed entries for
/// `takeRemoved`, used for `dispose`), `fakeClock` (a clock moved by `advanceClock`).
#[napi(catch_unwind)]
pub fn create_lru_cache<'env>(
    env: &'env Env,
    options: Option<Object<'env>>,
) -> Result<Object<'env>> {
    let parsed = parse_options(env, options)?;
    let (clock, fake): (SharedClock, _) = if parsed.fake_clock {
        let f = Arc::new(FakeClock::new(0));
        (f.clone(), Some(f))
    } else {
        (clock::monotonic(), None)
    };
    let cache = match Cache::new(parsed.core, clock) {
        Ok(c) => c,
        Err(e) => return errors::type_error(env, E_UNBOUNDED, &e.to_string()),
    };
    if parsed.track_removals {
        cache.lock().track_removals(true);
    }
    LIVE_CACHES.fetch_add(1, Ordering::Relaxed);
    let state = Arc::new(Handle { cache, fake });
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

/// Reads the key argument (a string) and runs `f` on its UTF-8 bytes.
///
/// # Safety
/// `env` and `v` must be valid for the running callback.
#[inline]
unsafe fn with_key(
    env: sys::napi_env,
    v: sys::napi_value,
    f: impl FnOnce(&[u8]) -> sys::napi_value,
) -> sys::napi_value {
    let mut buf = [0u8; KEY_STACK];
    match raw::read_str(env, v, &mut buf) {
        StrRead::Ok(k) => f(k),
        StrRead::TooLong(_) => match raw::read_string(env, v) {
            Some(s) => f(s.as_bytes()),
            None => invalid_key(env),
        },
        StrRead::NotString => invalid_key(env),
    }
}

unsafe fn invalid_key(env: sys::napi_env) -> sys::napi_value {
    raw::throw_type_error(env, E_KEY, "LruCache keys must be strings")
}

/// Copies a JS string into Rust memory once, as UTF-8, noting whether it is pure ASCII.
///
/// # Safety
/// `env` and `v` must be valid for the running callback and `v` a string.
unsafe fn read_string_value(env: sys::napi_env, v: sys::napi_value) -> (Box<[u8]>, u8) {
    // The UTF-16 length is O(1); an ASCII string has exactly that many UTF-8 bytes, so
    // the common case is read straight into a buffer of the right size.
    let mut units = 0usize;
    sys::napi_get_value_string_utf16(env, v, ptr::null_mut(), 0, &mut units);
    let mut out: Vec<u8> = Vec::with_capacity(units + 1);
    let mut written = 0usize;
    sys::napi_get_value_string_utf8(env, v, out.as_mut_ptr().cast(), units + 1, &mut written);
    out.set_len(written);
    if written == units && out.is_ascii() {
        return (out.into_boxed_slice(), KIND_ASCII);
    }
    // Non-ASCII: at most 3 UTF-8 bytes per UTF-16 unit.
    let cap = units * 3 + 1;
    out = Vec::with_capacity(cap);
    sys::napi_get_value_string_utf8(env, v, out.as_mut_ptr().cast(), cap, &mut written);
    out.set_len(written);
    (out.into_boxed_slice(), KIND_UTF8)
}

/// Reads the value argument: a string, a Buffer or a TypedArray.
///
/// # Safety
/// `env` and `v` must be valid for the running callback.
unsafe fn read_value(env: sys::napi_env, v: sys::napi_value) -> Option<(Box<[u8]>, u8)> {
    let mut t = 0;
    sys::napi_typeof(env, v, &mut t);
    if t == sys::ValueType::napi_string {
        return Some(read_string_value(env, v));
    }
    raw::bytes(env, v).map(|b| (Box::<[u8]>::from(b), KIND_BUFFER))
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
            raw::throw_range_error(
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
        Some(x) if x >= 1.0 && x <= MAX_SAFE && x.fract() == 0.0 => Ok(Some(x as u64)),
        Some(x) => {
            raw::throw_range_error(
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

/// `get(key)` → the value, or `undefined`.
unsafe extern "C" fn get(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<1>(env, info);
        let h: &Handle = raw::state(a.data);
        with_key(env, a.argv[0], |key| {
            let found = h.cache.lock().get_with(key, |v, _| v.to_js(env));
            found.unwrap_or_else(|| raw::undefined(env))
        })
    })
}

/// `set(key, value, ttl?, size?)` → `true` when stored, `false` when rejected because
/// the entry alone exceeds `maxSize` (counted in `stats().rejected`).
unsafe extern "C" fn set(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<4>(env, info);
        let h: &Handle = raw::state(a.data);
        with_key(env, a.argv[0], |key| {
            let Some((bytes, kind)) = read_value(env, a.argv[1]) else {
                return raw::throw_type_error(
                    env,
                    E_VALUE,
                    "LruCache values must be strings or Buffers (use { json: true } for objects)",
                );
            };
            let Ok(ttl) = read_ttl(env, a.argv[2]) else {
                return ptr::null_mut();
            };
            let Ok(size) = read_size(env, a.argv[3]) else {
                return ptr::null_mut();
            };
            let size = size.unwrap_or((key.len() + bytes.len()) as u64);
            let value = Stored::new(bytes, kind, key.len());
            let outcome = h.cache.lock().set(Box::from(key), value, size, ttl);
            raw::bool_value(env, matches!(outcome, SetOutcome::Stored))
        })
    })
}

/// `has(key)` → whether a fresh value is stored; no recency change.
unsafe extern "C" fn has(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<1>(env, info);
        let h: &Handle = raw::state(a.data);
        with_key(env, a.argv[0], |key| {
            raw::bool_value(env, h.cache.lock().contains(key))
        })
    })
}

/// `peek(key)` → the value without changing recency, or `undefined`.
unsafe extern "C" fn peek(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<1>(env, info);
        let h: &Handle = raw::state(a.data);
        with_key(env, a.argv[0], |key| {
            let c = h.cache.lock();
            match c.peek(key) {
                Some(v) => v.to_js(env),
                None => raw::undefined(env),
            }
        })
    })
}

/// `delete(key)` → whether the key was present.
unsafe extern "C" fn delete(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<1>(env, info);
        let h: &Handle = raw::state(a.data);
        with_key(env, a.argv[0], |key| {
            raw::bool_value(env, h.cache.lock().delete(key))
        })
    })
}

unsafe extern "C" fn clear(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<0>(env, info);
        let h: &Handle = raw::state(a.data);
        h.cache.lock().clear();
        raw::undefined(env)
    })
}

/// `purgeStale()` → how many expired entries were removed.
unsafe extern "C" fn purge_stale(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<0>(env, info);
        let h: &Handle = raw::state(a.data);
        let n = h.cache.lock().purge_stale();
        raw::f64_value(env, n as f64)
    })
}

unsafe extern "C" fn size(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<0>(env, info);
        let h: &Handle = raw::state(a.data);
        let n = h.cache.lock().len();
        raw::f64_value(env, n as f64)
    })
}

unsafe extern "C" fn bytes(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<0>(env, info);
        let h: &Handle = raw::state(a.data);
        let n = h.cache.lock().bytes();
        raw::f64_value(env, n as f64)
    })
}

unsafe fn set_number(env: sys::napi_env, obj: sys::napi_value, name: &std::ffi::CStr, x: u64) {
    sys::napi_set_named_property(env, obj, name.as_ptr(), raw::f64_value(env, x as f64));
}

/// `stats()` → `{ hits, misses, evictions, expirations, rejected, size, bytes }`.
unsafe extern "C" fn stats(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<0>(env, info);
        let h: &Handle = raw::state(a.data);
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
    })
}

/// `list(mode)` → fresh entries, most recently used first, without changing recency:
/// mode 0 keys, 1 values, 2 `[key0, value0, key1, value1, …]`.
unsafe extern "C" fn list(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<1>(env, info);
        let h: &Handle = raw::state(a.data);
        let mode = raw::get_f64(env, a.argv[0]).unwrap_or(0.0) as u32;
        let c = h.cache.lock();
        let mut arr = ptr::null_mut();
        sys::napi_create_array(env, &mut arr);
        let mut i = 0u32;
        for (k, v) in c.iter() {
            if mode != 1 {
                let key = raw::string_value(env, &String::from_utf8_lossy(k));
                sys::napi_set_element(env, arr, i, key);
                i += 1;
            }
            if mode != 0 {
                sys::napi_set_element(env, arr, i, v.to_js(env));
                i += 1;
            }
        }
        arr
    })
}

fn reason_name(r: RemovalReason) -> &'static str {
    match r {
        RemovalReason::Evict => "evict",
        RemovalReason::Expire => "expire",
        RemovalReason::Set => "set",
        RemovalReason::Delete => "delete",
    }
}

/// `takeRemoved()` → `[key, value, reason, …]` removed since the last call, or
/// `undefined` when none (only with `trackRemovals`).
unsafe extern "C" fn take_removed(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<0>(env, info);
        let h: &Handle = raw::state(a.data);
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
            let key = raw::string_value(env, &String::from_utf8_lossy(k));
            sys::napi_set_element(env, arr, base, key);
            sys::napi_set_element(env, arr, base + 1, v.to_js(env));
            sys::napi_set_element(env, arr, base + 2, raw::string_value(env, reason_name(*r)));
        }
        arr
    })
}

/// `advanceClock(ms)` → the fake clock's new time (only with `fakeClock: true`).
unsafe extern "C" fn advance_clock(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<1>(env, info);
        let h: &Handle = raw::state(a.data);
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
    })
}

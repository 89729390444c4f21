//! napi glue for the circuit breaker: a coarse `#[napi]` factory with validated options,
//! and raw per-call entry points bound onto the object it returns.
//!
//! The object returned by `createCircuitBreakerHandle(options, clock?)` carries:
//! - `acquire()` → a ticket (a non-negative number) or -1 when the call is rejected;
//! - `success(ticket)`, `failure(ticket)`, `timeout(ticket)` → the call's latency in ms;
//! - `flush(n, atMs)` records the first `n` latencies of `batch` as successes of calls
//!   JS admitted while closed, in the window bucket of `atMs`; `succeeded(ms)`,
//!   `failed(ms)`, `timedOut(ms)` record one such call;
//! - `fallback()`, `open()`, `close()`, `halfOpen()`, `state()` (0 closed, 1 open, 2
//!   half-open, turning open into half-open when due), `now()` (the breaker clock in ms),
//!   `stats()` (writes the window statistics into `shared`), `bucket(age)` (the same for
//!   one bucket, 0 the newest; 0 when there is none), `bucketCount()`, `rotate()` (moves
//!   the window one bucket), `bump(counter, n)` (adds to a window counter, `Counter`
//!   order), `seed()` (adds the first 11 numbers of `batch` to the newest bucket),
//!   `warmUp()` (1 during the warm-up);
//! - `shared`: a `Float64Array` over the breaker's [`Published`] slots, updated by Rust,
//!   so JS reads the state, the transition count and the cumulative counters without a
//!   call; `batch`: a `Float64Array(256)` JS fills with latencies before `flush`.
//!
//! A ticket is `start_ms * 2048 + probe`, exact in a JS number for 2^42 ms (139 years) of
//! clock time. Every entry point takes and returns numbers only; nothing allocates a JS
//! object per call.

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::{Object, Unknown};
use napi::{sys, Env, JsValue, Result, ValueType};
use napi_derive::napi;

use crate::binding::errors;
use crate::binding::raw::{self, raw_method, CallArgs};
use crate::core::breaker::{
    BreakerOptions, CircuitBreaker, Counter, Outcome, Permit, Published, MAX_EPOCH,
};
use crate::core::clock::{self, Clock, FakeClock, SharedClock};

const CODE_OPTION: &str = "ERR_QERRORS_INVALID_OPTION";
const CODE_TICKET: &str = "ERR_QERRORS_INVALID_TICKET";
const PROBE_BITS: u32 = 11;
/// Largest clock time a ticket can carry.
const MAX_TICKET_MS: u64 = (1u64 << (53 - PROBE_BITS)) - 1;
const _: () = assert!(MAX_EPOCH as u64 == (1 << PROBE_BITS) - 1);

/// A clock that moves only when told to, for tests of time-dependent breaker behaviour:
/// pass it as the second argument of `createCircuitBreakerHandle` (or as the `clock`
/// option of the JS `CircuitBreaker`).
#[napi]
pub struct CircuitBreakerFakeClock {
    inner: Arc<FakeClock>,
}

#[napi]
impl CircuitBreakerFakeClock {
    /// A fake clock starting at `startMs` (default 0).
    #[napi(constructor)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "number | undefined | null")] start_ms: Option<Unknown>,
    ) -> Result<Self> {
        let start = number_arg(&env, start_ms, "startMs")?.unwrap_or(0.0);
        if !(0.0..=MAX_TICKET_MS as f64).contains(&start) || start.fract() != 0.0 {
            return errors::range_error(
                &env,
                CODE_OPTION,
                "startMs must be a non-negative integer below 2^42",
            );
        }
        Ok(Self {
            inner: Arc::new(FakeClock::new(start as u64)),
        })
    }

    /// Moves the clock forward by `ms` (a non-negative integer).
    #[napi]
    pub fn advance(&self, env: Env, #[napi(ts_arg_type = "number")] ms: Unknown) -> Result<()> {
        let ms = number_arg(&env, Some(ms), "ms")?.unwrap_or(f64::NAN);
        if !(0.0..=MAX_TICKET_MS as f64).contains(&ms) || ms.fract() != 0.0 {
            return errors::range_error(&env, CODE_OPTION, "ms must be a non-negative integer");
        }
        self.inner.advance(ms as u64);
        Ok(())
    }

    /// Current time in ms.
    #[napi]
    pub fn now(&self) -> f64 {
        self.inner.now_ms() as f64
    }
}

/// Largest batch of fast-path successes `flush(n)` records at once.
const BATCH: usize = 256;

/// The JS clock, three `f64` slots JS maps as a `Float64Array`:
/// `[0]` milliseconds (the [`clock::MonotonicClock`] timebase), refreshed every
/// millisecond by a ticker thread and by every native call; `[1]` 1 while the ticker
/// runs, 0 once it parked; `[2]` set to 1 by JS on every use. JS reads the time from
/// here instead of calling `performance.now()` (an allocation on Node 20) or crossing
/// into Rust. The ticker parks after [`IDLE_TICKS`] ticks without use, so an idle process
/// has no thread waking up; JS sees `[1] == 0` and wakes it with
/// `circuitBreakerClockWake()`, which refreshes `[0]` before it returns.
static CLOCK: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
static TICKER_RUNNING: AtomicBool = AtomicBool::new(false);
const NOW: usize = 0;
const AWAKE: usize = 1;
const USED: usize = 2;
const IDLE_TICKS: u32 = 100;

fn set(i: usize, x: f64) {
    CLOCK[i].store(x.to_bits(), Ordering::Release);
}

fn tick() -> u64 {
    let now = clock::MonotonicClock.now_ms();
    set(NOW, now as f64);
    now
}

/// The breakers' real clock: precise, and it keeps the JS clock fresh.
struct TickClock;

impl Clock for TickClock {
    fn now_ms(&self) -> u64 {
        tick()
    }
}

/// Refreshes the JS clock and makes sure the ticker runs. The ticker never blocks
/// process exit. If the thread cannot start, JS keeps waking (refreshing) the clock on
/// each use: slower, still correct.
fn wake_ticker() {
    tick();
    set(USED, 1.0);
    set(AWAKE, 1.0);
    if TICKER_RUNNING.swap(true, Ordering::AcqRel) {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("qerrors-breaker-clock".into())
        .stack_size(64 * 1024)
        .spawn(run_ticker);
    if spawned.is_err() {
        TICKER_RUNNING.store(false, Ordering::Release);
        set(AWAKE, 0.0);
    }
}

fn run_ticker() {
    let mut idle = 0;
    loop {
        tick();
        let used = f64::from_bits(CLOCK[USED].swap(0f64.to_bits(), Ordering::AcqRel)) != 0.0;
        idle = if used { 0 } else { idle + 1 };
        if idle >= IDLE_TICKS {
            TICKER_RUNNING.store(false, Ordering::Release);
            set(AWAKE, 0.0);
            // A wake that raced with parking either started a new ticker (then this one
            // leaves) or found this one still running (then it carries on).
            let used = f64::from_bits(CLOCK[USED].load(Ordering::Acquire)) != 0.0;
            if !used || TICKER_RUNNING.swap(true, Ordering::AcqRel) {
                return;
            }
            set(AWAKE, 1.0);
            idle = 0;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Wakes the shared JS clock (see [`CLOCK`]); JS calls it when `clock[1]` reads 0.
#[napi(catch_unwind)]
pub fn circuit_breaker_clock_wake() {
    wake_ticker();
}

struct Handle {
    core: CircuitBreaker,
    /// Latencies (ms) of fast-path successes JS has not flushed yet.
    batch: Box<[AtomicU64; BATCH]>,
}

/// Reads a number argument with a coded `TypeError` for any other type (napi-rs's own
/// conversion error carries no `ERR_QERRORS_*` code). `None` for undefined or null.
fn number_arg(env: &Env, v: Option<Unknown>, name: &str) -> Result<Option<f64>> {
    let Some(v) = v else { return Ok(None) };
    match v.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        // SAFETY: the value is a number of this call's env.
        ValueType::Number => Ok(unsafe { raw::get_f64(env.raw(), v.raw()) }),
        _ => errors::type_error(env, CODE_OPTION, &format!("{name} must be a number")),
    }
}

/// Reads an optional number option: `None` when absent (undefined).
fn num_opt(env: &Env, o: &Object, name: &str) -> Result<Option<f64>> {
    let Some(v) = o.get::<Unknown>(name)? else {
        return Ok(None);
    };
    match v.get_type()? {
        ValueType::Undefined => Ok(None),
        ValueType::Number => {
            // SAFETY: the value is a number of this call's env.
            let x = unsafe { raw::get_f64(env.raw(), v.raw()) };
            Ok(x)
        }
        _ => errors::type_error(env, CODE_OPTION, &format!("{name} must be a number")),
    }
}

/// Reads an optional boolean option, `false` when absent.
fn bool_opt(env: &Env, o: &Object, name: &str) -> Result<bool> {
    let Some(v) = o.get::<Unknown>(name)? else {
        return Ok(false);
    };
    match v.get_type()? {
        ValueType::Undefined => Ok(false),
        // SAFETY: checked above that the value is a boolean.
        ValueType::Boolean => unsafe {
            <bool as napi::bindgen_prelude::FromNapiValue>::from_napi_value(env.raw(), v.raw())
        },
        _ => errors::type_error(env, CODE_OPTION, &format!("{name} must be a boolean")),
    }
}

/// Reads an integer option in `min..=max`, `default` when absent.
fn int_opt(env: &Env, o: &Object, name: &str, default: u64, min: u64, max: u64) -> Result<u64> {
    match num_opt(env, o, name)? {
        None => Ok(default),
        Some(x) if x.fract() == 0.0 && x >= min as f64 && x <= max as f64 => Ok(x as u64),
        Some(_) => errors::range_error(
            env,
            CODE_OPTION,
            &format!("{name} must be an integer between {min} and {max}"),
        ),
    }
}

fn read_options(env: &Env, o: &Object) -> Result<BreakerOptions> {
    let d = BreakerOptions::default();
    let max_ms = crate::core::breaker::MAX_DURATION_MS;
    let pct = match o.get::<Unknown>("errorThresholdPercentage")? {
        None => d.error_threshold_percentage,
        Some(v) => {
            match v.get_type()? {
                ValueType::Undefined => d.error_threshold_percentage,
                ValueType::Null | ValueType::Boolean => {
                    // SAFETY: checked above that the value is null or a boolean.
                    let on = v.get_type()? == ValueType::Boolean
                        && unsafe {
                            <bool as napi::bindgen_prelude::FromNapiValue>::from_napi_value(
                                env.raw(),
                                v.raw(),
                            )?
                        };
                    if on {
                        return errors::type_error(
                        env,
                        CODE_OPTION,
                        "errorThresholdPercentage must be a number from 0 to 100, or false to disable",
                    );
                    }
                    None
                }
                ValueType::Number => match num_opt(env, o, "errorThresholdPercentage")? {
                    Some(p) if (0.0..=100.0).contains(&p) => Some(p),
                    _ => {
                        return errors::range_error(
                            env,
                            CODE_OPTION,
                            "errorThresholdPercentage must be between 0 and 100",
                        )
                    }
                },
                _ => return errors::type_error(
                    env,
                    CODE_OPTION,
                    "errorThresholdPercentage must be a number from 0 to 100, or false to disable",
                ),
            }
        }
    };
    let opts = BreakerOptions {
        reset_timeout_ms: int_opt(env, o, "resetTimeout", d.reset_timeout_ms, 0, max_ms)?,
        rolling_count_timeout_ms: int_opt(
            env,
            o,
            "rollingCountTimeout",
            d.rolling_count_timeout_ms,
            1,
            max_ms,
        )?,
        rolling_count_buckets: int_opt(
            env,
            o,
            "rollingCountBuckets",
            u64::from(d.rolling_count_buckets),
            1,
            u64::from(crate::core::breaker::MAX_BUCKETS),
        )? as u32,
        error_threshold_percentage: pct,
        volume_threshold: int_opt(
            env,
            o,
            "volumeThreshold",
            u64::from(d.volume_threshold),
            0,
            u64::from(u32::MAX),
        )? as u32,
        failure_threshold: int_opt(
            env,
            o,
            "failureThreshold",
            u64::from(d.failure_threshold),
            0,
            u64::from(u32::MAX),
        )? as u32,
        half_open_max_probes: int_opt(
            env,
            o,
            "halfOpenMaxProbes",
            u64::from(d.half_open_max_probes),
            1,
            u64::from(u32::MAX),
        )? as u32,
        window_rule: bool_opt(env, o, "windowRule")?,
        manual_rotation: bool_opt(env, o, "manualRotation")?,
        warm_up_ms: int_opt(env, o, "warmUp", 0, 0, max_ms)?,
    };
    if let Err(msg) = opts.validate() {
        return errors::range_error(env, CODE_OPTION, &msg);
    }
    Ok(opts)
}

/// Creates a native breaker and returns its handle object (see the module docs).
/// `options` uses opossum's names plus `failureThreshold` (consecutive failures, 0 = off),
/// `halfOpenMaxProbes`, `windowRule` (opossum's reading of the percentage rule),
/// `manualRotation` and `warmUp` (ms); `errorThresholdPercentage: false` disables the
/// percentage rule.
#[napi(catch_unwind, ts_return_type = "CircuitBreakerHandle")]
pub fn create_circuit_breaker_handle<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "CircuitBreakerHandleOptions")] options: Unknown<'env>,
    clock: Option<&CircuitBreakerFakeClock>,
) -> Result<Object<'env>> {
    if options.get_type()? != ValueType::Object {
        return errors::type_error(env, CODE_OPTION, "options must be an object");
    }
    // SAFETY: checked to be an object just above.
    let options: Object<'env> = unsafe { options.cast()? };
    let opts = read_options(env, &options)?;
    let clock: SharedClock = match clock {
        Some(c) => c.inner.clone(),
        None => Arc::new(TickClock),
    };
    let core = match CircuitBreaker::new(opts, clock) {
        Ok(c) => c,
        Err(msg) => return errors::range_error(env, CODE_OPTION, &msg),
    };
    let handle = Arc::new(Handle {
        core,
        batch: Box::new(std::array::from_fn(|_| AtomicU64::new(0))),
    });
    let target = Object::new(env)?;
    raw::bind_methods(
        env,
        &target,
        &handle,
        &[
            ("acquire", acquire),
            ("success", success),
            ("failure", failure),
            ("timeout", timeout),
            ("fallback", fallback),
            ("state", state),
            ("open", open),
            ("close", close),
            ("now", now),
            ("stats", stats),
            ("flush", flush),
            ("succeeded", succeeded),
            ("failed", failed),
            ("timedOut", timed_out),
            ("bump", bump),
            ("seed", seed),
            ("halfOpen", half_open),
            ("rotate", rotate),
            ("bucket", bucket),
            ("bucketCount", bucket_count),
            ("warmUp", warm_up),
        ],
    )?;
    // SAFETY: both buffers point into memory boxed inside the handle; each buffer's
    // finalizer owns an `Arc` of the handle, so the memory outlives the buffers.
    unsafe {
        let published = handle.core.published().as_ptr() as *mut c_void;
        attach_view(
            env,
            &target,
            c"shared",
            published,
            Published::BYTES,
            &handle,
        )?;
        let batch = handle.batch.as_ptr() as *mut c_void;
        attach_view(env, &target, c"batch", batch, BATCH * 8, &handle)?;
    }
    Ok(target)
}

/// The shared JS clock (see [`CLOCK`]): a three-element `Float64Array`, awake.
/// Call once per thread and keep it: every call creates a new view of the same memory.
#[napi(catch_unwind, ts_return_type = "Float64Array")]
pub fn circuit_breaker_clock(env: &Env) -> Result<Unknown<'_>> {
    wake_ticker();
    let raw_env = env.raw();
    let mut buffer = ptr::null_mut();
    let mut view = ptr::null_mut();
    // SAFETY: CLOCK is a static, so the memory outlives any buffer; no finalizer.
    unsafe {
        if sys::napi_create_external_arraybuffer(
            raw_env,
            CLOCK.as_ptr() as *mut c_void,
            CLOCK.len() * 8,
            None,
            ptr::null_mut(),
            &mut buffer,
        ) != sys::Status::napi_ok
            || sys::napi_create_typedarray(
                raw_env,
                sys::TypedarrayType::float64_array,
                CLOCK.len(),
                buffer,
                0,
                &mut view,
            ) != sys::Status::napi_ok
        {
            return Err(napi::Error::from_reason(
                "cannot share the breaker clock with JS",
            ));
        }
        Ok(Unknown::from_raw_unchecked(raw_env, view))
    }
}

unsafe extern "C" fn release_handle(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    drop(Arc::from_raw(hint as *const Handle));
}

unsafe fn attach_view(
    env: &Env,
    target: &Object,
    name: &std::ffi::CStr,
    data: *mut c_void,
    bytes: usize,
    handle: &Arc<Handle>,
) -> Result<()> {
    let raw_env = env.raw();
    let hint = Arc::into_raw(Arc::clone(handle)) as *mut c_void;
    let mut buffer = ptr::null_mut();
    if sys::napi_create_external_arraybuffer(
        raw_env,
        data,
        bytes,
        Some(release_handle),
        hint,
        &mut buffer,
    ) != sys::Status::napi_ok
    {
        drop(Arc::from_raw(hint as *const Handle));
        return Err(napi::Error::from_reason(
            "cannot share the breaker state with JS",
        ));
    }
    let mut view = ptr::null_mut();
    if sys::napi_create_typedarray(
        raw_env,
        sys::TypedarrayType::float64_array,
        bytes / 8,
        buffer,
        0,
        &mut view,
    ) != sys::Status::napi_ok
        || sys::napi_set_named_property(raw_env, target.raw(), name.as_ptr(), view)
            != sys::Status::napi_ok
    {
        return Err(napi::Error::from_reason(
            "cannot share the breaker state with JS",
        ));
    }
    Ok(())
}

fn encode(p: Permit) -> f64 {
    ((p.start_ms.min(MAX_TICKET_MS) << PROBE_BITS) | u64::from(p.probe)) as f64
}

fn decode(t: f64) -> Option<Permit> {
    if !(0.0..=9_007_199_254_740_991.0).contains(&t) || t.fract() != 0.0 {
        return None;
    }
    let t = t as u64;
    // Every 11-bit value is a valid epoch (0 = normal call, 1..=MAX_EPOCH a probe).
    Some(Permit {
        start_ms: t >> PROBE_BITS,
        probe: (t & u64::from(MAX_EPOCH)) as u16,
    })
}

raw_method!(acquire, 0, |env, _a, h: &Handle| {
    let t = h.core.try_acquire().map_or(-1.0, encode);
    raw::f64_value(env, t)
});

/// Records the outcome of the call holding the ticket in `a.argv[0]`.
unsafe fn settle(
    env: sys::napi_env,
    a: &CallArgs<1>,
    h: &Handle,
    outcome: Outcome,
) -> sys::napi_value {
    match raw::get_f64(env, a.argv[0]).and_then(decode) {
        Some(p) => raw::f64_value(env, h.core.record(p, outcome) as f64),
        None => raw::throw_type_error(env, CODE_TICKET, "expected a ticket returned by acquire()"),
    }
}

raw_method!(success, 1, |env, a, h: &Handle| settle(
    env,
    &a,
    h,
    Outcome::Success
));
raw_method!(failure, 1, |env, a, h: &Handle| settle(
    env,
    &a,
    h,
    Outcome::Failure
));
raw_method!(timeout, 1, |env, a, h: &Handle| settle(
    env,
    &a,
    h,
    Outcome::Timeout
));
raw_method!(fallback, 0, |env, _a, h: &Handle| {
    h.core.record_fallback();
    raw::undefined(env)
});
raw_method!(state, 0, |env, _a, h: &Handle| raw::i32_value(
    env,
    h.core.state() as i32
));
raw_method!(open, 0, |env, _a, h: &Handle| {
    h.core.force_open();
    raw::undefined(env)
});
raw_method!(close, 0, |env, _a, h: &Handle| {
    h.core.force_close();
    raw::undefined(env)
});
raw_method!(now, 0, |env, _a, h: &Handle| raw::f64_value(
    env,
    h.core.now_ms() as f64
));
raw_method!(stats, 0, |env, _a, h: &Handle| {
    h.core.publish_stats();
    raw::undefined(env)
});

raw_method!(half_open, 0, |env, _a, h: &Handle| {
    h.core.force_half_open();
    raw::undefined(env)
});
raw_method!(rotate, 0, |env, _a, h: &Handle| {
    h.core.rotate_bucket();
    raw::undefined(env)
});
raw_method!(bucket_count, 0, |env, _a, h: &Handle| raw::f64_value(
    env,
    h.core.bucket_count() as f64
));
raw_method!(warm_up, 0, |env, _a, h: &Handle| raw::i32_value(
    env,
    i32::from(h.core.warm_up())
));
raw_method!(seed, 0, |env, _a, h: &Handle| {
    let counts: Vec<u64> = h.batch[..Counter::ALL.len()]
        .iter()
        .map(|w| latency_arg(Some(f64::from_bits(w.load(Ordering::Relaxed)))))
        .collect();
    h.core.seed(&counts);
    raw::undefined(env)
});

raw_method!(
    /// `bump(counter, n)`: adds `n` (default 1) to the window counter of that index
    /// ([`Counter::ALL`] order); an unknown index is ignored.
    bump,
    2,
    |env, a, h: &Handle| {
        let which = latency_arg(raw::get_f64(env, a.argv[0])) as usize;
        let n = raw::get_f64(env, a.argv[1]).map_or(1, |x| latency_arg(Some(x)));
        if let Some(c) = Counter::from_index(which) {
            h.core.bump(c, n);
        }
        raw::undefined(env)
    }
);

raw_method!(
    /// `bucket(age)`: writes bucket `age` (0 the newest) into the window slots; returns 1,
    /// or 0 when there is no such bucket.
    bucket,
    1,
    |env, a, h: &Handle| {
        let age = latency_arg(raw::get_f64(env, a.argv[0])) as usize;
        raw::i32_value(env, i32::from(h.core.publish_bucket(age)))
    }
);

/// A latency (ms) passed by JS: a finite non-negative number, else 0.
fn latency_arg(x: Option<f64>) -> u64 {
    x.filter(|v| v.is_finite() && *v >= 0.0)
        .map_or(0, |v| v.round() as u64)
}

raw_method!(flush, 2, |env, a, h: &Handle| {
    let n = (latency_arg(raw::get_f64(env, a.argv[0])) as usize).min(BATCH);
    let latencies = h.batch[..n]
        .iter()
        .map(|w| latency_arg(Some(f64::from_bits(w.load(Ordering::Relaxed)))));
    h.core
        .record_closed_successes(latencies, latency_arg(raw::get_f64(env, a.argv[1])));
    raw::undefined(env)
});

/// Records one call JS admitted while closed, with its latency in `a.argv[0]`.
unsafe fn closed(
    env: sys::napi_env,
    a: &CallArgs<1>,
    h: &Handle,
    outcome: Outcome,
) -> sys::napi_value {
    h.core
        .record_closed(outcome, latency_arg(raw::get_f64(env, a.argv[0])));
    raw::undefined(env)
}

raw_method!(succeeded, 1, |env, a, h: &Handle| closed(
    env,
    &a,
    h,
    Outcome::Success
));
raw_method!(failed, 1, |env, a, h: &Handle| closed(
    env,
    &a,
    h,
    Outcome::Failure
));
raw_method!(timed_out, 1, |env, a, h: &Handle| closed(
    env,
    &a,
    h,
    Outcome::Timeout
));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_round_trip() {
        for p in [
            Permit {
                start_ms: 0,
                probe: 0,
            },
            Permit {
                start_ms: 123_456_789,
                probe: MAX_EPOCH,
            },
            Permit {
                start_ms: MAX_TICKET_MS,
                probe: 7,
            },
        ] {
            assert_eq!(decode(encode(p)), Some(p));
        }
        for bad in [-1.0, 0.5, f64::NAN, f64::INFINITY, 9_007_199_254_740_992.0] {
            assert_eq!(decode(bad), None, "{bad}");
        }
        assert_eq!(decode(2048.0 * 5.0 + 2047.0).map(|p| p.probe), Some(2047));
    }
}

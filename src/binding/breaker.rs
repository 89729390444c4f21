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
//!   `warmUp()` (1 during the warm-up), `noop(x)` (does nothing: the benchmark's floor);
//! - `shared`: a `Float64Array` over the breaker's [`Published`] slots, updated by Rust,
//!   so JS reads the state, the transition count and the cumulative counters without a
//!   call; `batch`: a `Float64Array(256)` JS fills with latencies before `flush`.
//!
//! A ticket is `start_ms * 2048 + probe`, exact in a JS number for 2^42 ms (139 years) of
//! clock time. Every entry point takes and returns numbers only; nothing allocates a JS
//! object per call.

use std::ffi::c_void;
use std::fmt;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::{Object, Unknown};
use napi::{sys, Env, JsValue, Result, ValueType};
use napi_derive::napi;
use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::Deserialize;

use crate::binding::errors;
use crate::binding::options::{self, Int};
use crate::binding::raw::{self, raw_method, CallArgs};
use crate::core::breaker::{
    BreakerOptions, CircuitBreaker, Counter, Outcome, Permit, Published, MAX_BUCKETS,
    MAX_DURATION_MS, MAX_EPOCH,
};
use crate::core::clock::SharedClock;

mod clock;

use clock::TickClock;
pub use clock::{circuit_breaker_clock, circuit_breaker_clock_wake, CircuitBreakerFakeClock};

const CODE_OPTION: &str = "ERR_QERRORS_INVALID_OPTION";
const CODE_TICKET: &str = "ERR_QERRORS_INVALID_TICKET";
const PROBE_BITS: u32 = 11;
/// Largest clock time a ticket can carry.
const MAX_TICKET_MS: u64 = (1u64 << (53 - PROBE_BITS)) - 1;
const _: () = assert!(MAX_EPOCH as u64 == (1 << PROBE_BITS) - 1);

/// Largest batch of fast-path successes `flush(n)` records at once.
const BATCH: usize = 256;

struct Handle {
    core: CircuitBreaker,
    /// Latencies (ms) of fast-path successes JS has not flushed yet.
    batch: Box<[AtomicU64; BATCH]>,
}

/// The handle's options, read by the one options reader: opossum's names plus
/// `failureThreshold` (consecutive failures, 0 = off), `halfOpenMaxProbes`, `windowRule`,
/// `manualRotation` and `warmUp` (ms).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct HandleOptions {
    reset_timeout: Int<0, MAX_DURATION_MS>,
    rolling_count_timeout: Int<1, MAX_DURATION_MS>,
    rolling_count_buckets: Int<1, { MAX_BUCKETS as u64 }>,
    error_threshold_percentage: Percentage,
    volume_threshold: Int<0, { u32::MAX as u64 }>,
    failure_threshold: Int<0, { u32::MAX as u64 }>,
    half_open_max_probes: Int<1, { u32::MAX as u64 }>,
    window_rule: bool,
    manual_rotation: bool,
    warm_up: Int<0, MAX_DURATION_MS>,
}

impl Default for HandleOptions {
    fn default() -> Self {
        let d = BreakerOptions::default();
        Self {
            reset_timeout: Int(d.reset_timeout_ms),
            rolling_count_timeout: Int(d.rolling_count_timeout_ms),
            rolling_count_buckets: Int(u64::from(d.rolling_count_buckets)),
            error_threshold_percentage: Percentage(d.error_threshold_percentage),
            volume_threshold: Int(u64::from(d.volume_threshold)),
            failure_threshold: Int(u64::from(d.failure_threshold)),
            half_open_max_probes: Int(u64::from(d.half_open_max_probes)),
            window_rule: d.window_rule,
            manual_rotation: d.manual_rotation,
            warm_up: Int(d.warm_up_ms),
        }
    }
}

/// `errorThresholdPercentage`: a number from 0 to 100, or `false` (or `null`) to turn the
/// percentage rule off.
struct Percentage(Option<f64>);

impl<'de> Deserialize<'de> for Percentage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Percentage;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number from 0 to 100, or false to disable")
            }
            fn visit_bool<E: de::Error>(self, on: bool) -> std::result::Result<Percentage, E> {
                if on {
                    Err(E::invalid_type(Unexpected::Bool(true), &self))
                } else {
                    Ok(Percentage(None))
                }
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Percentage, E> {
                Ok(Percentage(None))
            }
            fn visit_f64<E: de::Error>(self, p: f64) -> std::result::Result<Percentage, E> {
                if (0.0..=100.0).contains(&p) {
                    Ok(Percentage(Some(p)))
                } else {
                    Err(E::invalid_value(Unexpected::Float(p), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

fn read_options(env: &Env, o: &Object) -> Result<BreakerOptions> {
    let r: HandleOptions = options::read(env, o, CODE_OPTION, "options")?;
    // Every bound fits a u32 field: the `Int` types above cap them at u32::MAX.
    let narrow = |x: u64| u32::try_from(x).unwrap_or(u32::MAX);
    let opts = BreakerOptions {
        reset_timeout_ms: r.reset_timeout.0,
        rolling_count_timeout_ms: r.rolling_count_timeout.0,
        rolling_count_buckets: narrow(r.rolling_count_buckets.0),
        error_threshold_percentage: r.error_threshold_percentage.0,
        volume_threshold: narrow(r.volume_threshold.0),
        failure_threshold: narrow(r.failure_threshold.0),
        half_open_max_probes: narrow(r.half_open_max_probes.0),
        window_rule: r.window_rule,
        manual_rotation: r.manual_rotation,
        warm_up_ms: r.warm_up.0,
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
            ("noop", noop),
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
    /// `noop(x)`: does nothing. The floor of a raw call (argument fetch and handle lookup
    /// included) that benchmark/circuit-breaker.js measures `fire` against.
    noop,
    1,
    |env, _a, _h: &Handle| raw::undefined(env)
);

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

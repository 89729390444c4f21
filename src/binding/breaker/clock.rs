//! The breakers' clocks: the fake clock tests move by hand, and the real clock shared with
//! JS as a `Float64Array` that a ticker thread keeps fresh.

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::Unknown;
use napi::{sys, Env, JsValue, Result, ValueType};
use napi_derive::napi;

use super::{CODE_OPTION, MAX_TICKET_MS};
use crate::binding::errors;
use crate::binding::raw;
use crate::core::clock::{self, Clock, FakeClock};

/// A clock that moves only when told to, for tests of time-dependent breaker behaviour:
/// pass it as the second argument of `createCircuitBreakerHandle` (or as the `clock`
/// option of the JS `CircuitBreaker`).
#[napi]
pub struct CircuitBreakerFakeClock {
    pub(super) inner: Arc<FakeClock>,
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
pub(super) struct TickClock;

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

//! JS face of the rate limiter: a `#[napi]` factory that validates the options once, and
//! raw N-API methods for the per-request calls.
//!
//! Why raw: a napi-rs class method with a string argument costs 400-600 ns of glue here,
//! ten times the decision itself; a raw callback that reads the key into a stack buffer
//! and returns a number costs 30-50 ns (measured in docs/rate-limiter.md). Every method is bound to its own
//! `Arc<State>` by [`raw::bind_methods`], so detached methods stay valid.

use std::ffi::CString;
use std::ptr;
use std::sync::Arc;

use napi::bindgen_prelude::{Object, Unknown};
use napi::{sys, Env, JsValue, Result};
use napi_derive::napi;

use super::errors;
use super::keys::{self, Wtf8Key};
use super::raw::{self, raw_method};
use crate::core::clock::{CoarseClock, FakeClock, MonotonicClock, SharedClock};
use crate::core::rate_limit::{
    split_keys, ConfigError, RateLimitConfig, RateLimiter, DEFAULT_MAX_KEYS, MAX_LIMIT,
};

/// Most slots one `sweep(steps)` call may inspect.
const MAX_SWEEP_STEPS: f64 = 1_048_576.0;

struct State {
    limiter: RateLimiter,
    manual: Option<Arc<FakeClock>>,
}

const CODE_KEY: &str = "ERR_QERRORS_INVALID_KEY";
const CODE_COST: &str = "ERR_QERRORS_INVALID_COST";
const CODE_OPTIONS: &str = "ERR_QERRORS_INVALID_OPTION";
const CODE_BATCH: &str = "ERR_QERRORS_INVALID_BATCH";

/// Reads one named property of `obj` (`undefined` when absent).
unsafe fn property(env: sys::napi_env, obj: sys::napi_value, name: &str) -> sys::napi_value {
    let cname = CString::new(name).unwrap_or_default();
    let mut out = ptr::null_mut();
    if sys::napi_get_named_property(env, obj, cname.as_ptr(), &mut out) != sys::Status::napi_ok {
        return raw::undefined(env);
    }
    out
}

unsafe fn type_of(env: sys::napi_env, v: sys::napi_value) -> sys::napi_valuetype {
    let mut t = sys::ValueType::napi_undefined;
    sys::napi_typeof(env, v, &mut t);
    t
}

/// Validation failure of an option: which error class, code and message.
struct Invalid {
    range: bool,
    code: &'static str,
    msg: String,
}

impl Invalid {
    fn throw<T>(self, env: &Env) -> Result<T> {
        if self.range {
            errors::range_error(env, self.code, &self.msg)
        } else {
            errors::type_error(env, self.code, &self.msg)
        }
    }
}

/// An optional integer option: `None` when undefined, a TypeError for a non-number, a
/// RangeError for NaN, infinities, fractions and values outside `min..=max`.
unsafe fn int_option(
    env: sys::napi_env,
    obj: sys::napi_value,
    name: &str,
    min: f64,
    max: f64,
    code: &'static str,
) -> std::result::Result<Option<u64>, Invalid> {
    let v = property(env, obj, name);
    match type_of(env, v) {
        sys::ValueType::napi_undefined => Ok(None),
        sys::ValueType::napi_number => {
            let x = raw::get_f64(env, v).unwrap_or(f64::NAN);
            if x.is_finite() && x.fract() == 0.0 && x >= min && x <= max {
                Ok(Some(x as u64))
            } else {
                Err(Invalid {
                    range: true,
                    code,
                    msg: format!("{name} must be an integer from {min} to {max}, got {x}"),
                })
            }
        }
        _ => Err(Invalid {
            range: false,
            code,
            msg: format!("{name} must be a number"),
        }),
    }
}

fn config_error(e: ConfigError) -> Invalid {
    Invalid {
        range: true,
        code: e.code(),
        msg: e.to_string(),
    }
}

unsafe fn read_config(
    env: sys::napi_env,
    obj: sys::napi_value,
) -> std::result::Result<(RateLimitConfig, String), Invalid> {
    let limit_code = ConfigError::Limit.code();
    let limit =
        int_option(env, obj, "limit", 1.0, MAX_LIMIT as f64, limit_code)?.ok_or(Invalid {
            range: false,
            code: limit_code,
            msg: "limit is required: the number of requests allowed per windowMs".into(),
        })?;
    let window_ms = int_option(
        env,
        obj,
        "windowMs",
        1.0,
        crate::core::rate_limit::MAX_WINDOW_MS as f64,
        ConfigError::Window.code(),
    )?
    .unwrap_or(60_000);
    let burst = int_option(
        env,
        obj,
        "burst",
        1.0,
        MAX_LIMIT as f64,
        ConfigError::Burst.code(),
    )?
    .unwrap_or(limit);
    let max_keys = int_option(
        env,
        obj,
        "maxKeys",
        1.0,
        crate::core::rate_limit::MAX_KEYS as f64,
        ConfigError::MaxKeys.code(),
    )?
    .map_or(DEFAULT_MAX_KEYS, |n| n as usize);
    let subnet_v = property(env, obj, "ipv6Subnet");
    let ipv6_prefix = match type_of(env, subnet_v) {
        sys::ValueType::napi_boolean if !bool_of(env, subnet_v) => None,
        _ => int_option(
            env,
            obj,
            "ipv6Subnet",
            1.0,
            128.0,
            ConfigError::Ipv6Prefix.code(),
        )?
        .map(|p| p as u8),
    };
    let clock_v = property(env, obj, "clock");
    let clock = match type_of(env, clock_v) {
        sys::ValueType::napi_undefined => "coarse".to_owned(),
        sys::ValueType::napi_string => raw::read_string(env, clock_v).unwrap_or_default(),
        _ => {
            return Err(Invalid {
                range: false,
                code: CODE_OPTIONS,
                msg: "clock must be 'coarse', 'precise' or 'manual'".into(),
            })
        }
    };
    if !matches!(clock.as_str(), "coarse" | "precise" | "manual") {
        return Err(Invalid {
            range: true,
            code: CODE_OPTIONS,
            msg: format!("clock must be 'coarse', 'precise' or 'manual', got '{clock}'"),
        });
    }
    let mut cfg = RateLimitConfig::new(limit, window_ms);
    cfg.burst = burst;
    cfg.max_keys = max_keys;
    cfg.ipv6_prefix = ipv6_prefix;
    cfg.validate().map_err(config_error)?;
    Ok((cfg, clock))
}

unsafe fn bool_of(env: sys::napi_env, v: sys::napi_value) -> bool {
    let mut b = false;
    sys::napi_get_value_bool(env, v, &mut b);
    b
}

/// Creates a native rate limiter object: `{ check, consume, retryAfterMs, resetMs,
/// remaining, penalty, reward, reset, resetAll, checkBatch, sweep, stats, heapBytes }`, plus
/// `advanceTime` when `clock: 'manual'`. Options: `limit` (required), `windowMs` (60000),
/// `burst` (= limit), `maxKeys` (100000), `ipv6Subnet` (false or 1-128), `clock`
/// (`'coarse'` default, `'precise'`, or `'manual'` starting at 0 ms).
#[napi(catch_unwind)]
pub fn create_rate_limiter<'e>(env: &'e Env, options: Unknown<'e>) -> Result<Object<'e>> {
    let raw_env = env.raw();
    // SAFETY: raw_env and options belong to this call.
    let parsed = unsafe {
        if type_of(raw_env, options.raw()) != sys::ValueType::napi_object {
            return errors::type_error(
                env,
                CODE_OPTIONS,
                "rate limiter options must be an object such as { limit: 100, windowMs: 60000 }",
            );
        }
        read_config(raw_env, options.raw())
    };
    let (cfg, clock_name) = match parsed {
        Ok(v) => v,
        Err(e) => return e.throw(env),
    };
    let manual = (clock_name == "manual").then(|| Arc::new(FakeClock::new(0)));
    let clock: SharedClock = match (&manual, clock_name.as_str()) {
        (Some(m), _) => m.clone(),
        (None, "precise") => Arc::new(MonotonicClock),
        _ => Arc::new(CoarseClock::new()),
    };
    let limiter = match RateLimiter::new(cfg, clock) {
        Ok(l) => l,
        Err(e) => return config_error(e).throw(env),
    };
    let has_manual = manual.is_some();
    let state = Arc::new(State { limiter, manual });
    let obj = Object::new(env)?;
    let mut methods: Vec<(&str, raw::RawCallback)> = vec![
        ("check", check),
        ("consume", consume),
        ("retryAfterMs", retry_after_ms),
        ("resetMs", reset_ms),
        ("remaining", remaining),
        ("penalty", penalty),
        ("reward", reward),
        ("reset", reset),
        ("resetAll", reset_all),
        ("checkBatch", check_batch),
        ("sweep", sweep),
        ("stats", stats),
        ("heapBytes", heap_bytes),
    ];
    if has_manual {
        methods.push(("advanceTime", advance_time));
    }
    raw::bind_methods(env, &obj, &state, &methods)?;
    Ok(obj)
}

/// Reads the key argument and runs `f` with its exact bytes: UTF-8 (the bytes `checkBatch`
/// keys arrive in), or WTF-8 when the key holds a lone surrogate (see [`keys::Wtf8Key`]).
///
/// # Safety
/// `env` and `v` must be valid for the running callback.
#[inline]
unsafe fn with_key(
    env: sys::napi_env,
    v: sys::napi_value,
    f: impl FnOnce(&[u8]) -> sys::napi_value,
) -> sys::napi_value {
    keys::with_key::<Wtf8Key>(env, v, (CODE_KEY, "rate limiter key must be a string"), f)
}

/// An optional non-negative integer count argument (`undefined` gives `default`).
///
/// # Safety
/// `env` and `v` must be valid for the running callback.
#[inline]
unsafe fn count_arg(
    env: sys::napi_env,
    v: sys::napi_value,
    default: u64,
    max: f64,
    what: &str,
) -> std::result::Result<u64, sys::napi_value> {
    match raw::get_f64(env, v) {
        Some(x) if x >= 0.0 && x <= max && x.fract() == 0.0 => Ok(x as u64),
        Some(x) => Err(raw::throw_range_error(
            env,
            CODE_COST,
            &format!("{what} must be an integer from 0 to {max}, got {x}"),
        )),
        None if type_of(env, v) == sys::ValueType::napi_undefined => Ok(default),
        None => Err(raw::throw_type_error(
            env,
            CODE_COST,
            &format!("{what} must be a number"),
        )),
    }
}

raw_method!(check, 1, |env, a, st: &State| {
    with_key(env, a.argv[0], |k| {
        raw::i32_value(env, st.limiter.check(k) as i32)
    })
});

raw_method!(consume, 2, |env, a, st: &State| {
    match count_arg(env, a.argv[1], 1, MAX_LIMIT as f64, "cost") {
        Ok(cost) => with_key(env, a.argv[0], |k| {
            raw::i32_value(env, st.limiter.consume(k, cost) as i32)
        }),
        Err(thrown) => thrown,
    }
});

raw_method!(retry_after_ms, 1, |env, a, st: &State| {
    with_key(env, a.argv[0], |k| {
        raw::f64_value(env, st.limiter.retry_after_ms(k) as f64)
    })
});

raw_method!(reset_ms, 1, |env, a, st: &State| {
    with_key(env, a.argv[0], |k| {
        raw::f64_value(env, st.limiter.reset_ms(k) as f64)
    })
});

raw_method!(remaining, 1, |env, a, st: &State| {
    with_key(env, a.argv[0], |k| {
        raw::i32_value(env, st.limiter.state(k).remaining as i32)
    })
});

raw_method!(penalty, 2, |env, a, st: &State| {
    match count_arg(env, a.argv[1], 1, MAX_LIMIT as f64, "penalty") {
        Ok(n) => with_key(env, a.argv[0], |k| {
            raw::i32_value(env, st.limiter.penalty(k, n) as i32)
        }),
        Err(thrown) => thrown,
    }
});

raw_method!(reward, 2, |env, a, st: &State| {
    match count_arg(env, a.argv[1], 1, MAX_LIMIT as f64, "reward") {
        Ok(n) => with_key(env, a.argv[0], |k| {
            raw::i32_value(env, st.limiter.reward(k, n) as i32)
        }),
        Err(thrown) => thrown,
    }
});

raw_method!(reset, 1, |env, a, st: &State| {
    with_key(env, a.argv[0], |k| {
        raw::bool_value(env, st.limiter.reset(k))
    })
});

raw_method!(reset_all, 0, |env, _a, st: &State| {
    st.limiter.reset_all();
    raw::undefined(env)
});

raw_method!(check_batch, 2, |env, a, st: &State| {
    let Some(keys) = raw::bytes(env, a.argv[0]) else {
        return raw::throw_type_error(
            env,
            CODE_BATCH,
            "checkBatch(keys, out): keys must be a Buffer of newline-separated keys",
        );
    };
    let Some(out) = raw::int32_array(env, a.argv[1]) else {
        return raw::throw_type_error(
            env,
            CODE_BATCH,
            "checkBatch(keys, out): out must be an Int32Array",
        );
    };
    let count = split_keys(keys).count();
    if count > out.len() {
        return raw::throw_range_error(
            env,
            CODE_BATCH,
            &format!("checkBatch: {count} keys but out holds only {}", out.len()),
        );
    }
    raw::f64_value(env, st.limiter.check_batch(keys, out) as f64)
});

raw_method!(sweep, 1, |env, a, st: &State| {
    match count_arg(env, a.argv[0], 4096, MAX_SWEEP_STEPS, "steps") {
        Ok(steps) => raw::f64_value(env, st.limiter.sweep(steps as usize) as f64),
        Err(thrown) => thrown,
    }
});

raw_method!(stats, 0, |env, _a, st: &State| {
    let s = st.limiter.stats();
    let mut obj = ptr::null_mut();
    sys::napi_create_object(env, &mut obj);
    for (name, v) in [
        (c"keys", s.keys),
        (c"allowed", s.allowed),
        (c"limited", s.limited),
        (c"evicted", s.evicted),
        (c"swept", s.swept),
    ] {
        sys::napi_set_named_property(env, obj, name.as_ptr(), raw::f64_value(env, v as f64));
    }
    obj
});

raw_method!(heap_bytes, 0, |env, _a, st: &State| {
    raw::f64_value(env, st.limiter.heap_bytes() as f64)
});

raw_method!(advance_time, 1, |env, a, st: &State| {
    match (&st.manual, raw::get_f64(env, a.argv[0])) {
        (Some(clock), Some(ms)) if ms.is_finite() && ms >= 0.0 => {
            clock.advance(ms as u64);
            raw::f64_value(
                env,
                crate::core::clock::Clock::now_ms(clock.as_ref()) as f64,
            )
        }
        _ => raw::throw_range_error(
            env,
            CODE_OPTIONS,
            "advanceTime(ms) needs a finite number of milliseconds >= 0",
        ),
    }
});

//! JS face of the rate limiter: a `#[napi]` factory that validates the options once, and
//! raw N-API methods for the per-request calls.
//!
//! Why raw: a napi-rs class method with a string argument costs 400-600 ns of glue here,
//! ten times the decision itself; a raw callback that reads the key into a stack buffer
//! and returns a number costs 30-50 ns (measured in docs/rate-limiter.md). Every method is bound to its own
//! `Arc<State>` by [`raw::bind_methods`], so detached methods stay valid.

use std::fmt;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::{Object, Unknown};
use napi::{sys, Env, Result, ValueType};
use napi_derive::napi;
use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::Deserialize;

use super::errors;
use super::keys::{self, Wtf8Key};
use super::options::{self, Int};
use super::raw::{self, raw_method};
use crate::core::clock::{CoarseClock, FakeClock, MonotonicClock, SharedClock};
use crate::core::rate_limit::{
    ip, split_keys, Algorithm, ConfigError, RateLimitConfig, RateLimiter, DEFAULT_MAX_KEYS,
    MAX_KEYS, MAX_LIMIT, MAX_WINDOW_MS,
};

/// Most slots one `sweep(steps)` call may inspect.
const MAX_SWEEP_STEPS: f64 = 1_048_576.0;

struct State {
    limiter: RateLimiter,
    manual: Option<Arc<FakeClock>>,
    /// The hash of the key of the last `check`/`consume`, for `checkLast`/`consumeLast`:
    /// a caller that sends one key again skips reading and hashing the string, the larger
    /// part of a check after the call itself. Methods run on the JS thread only; the
    /// atomic just makes `State` shareable.
    last: AtomicU64,
}

const CODE_KEY: &str = "ERR_QERRORS_INVALID_KEY";
const CODE_COST: &str = "ERR_QERRORS_INVALID_COST";
const CODE_OPTIONS: &str = "ERR_QERRORS_INVALID_OPTION";
const CODE_BATCH: &str = "ERR_QERRORS_INVALID_BATCH";

unsafe fn type_of(env: sys::napi_env, v: sys::napi_value) -> sys::napi_valuetype {
    let mut t = sys::ValueType::napi_undefined;
    sys::napi_typeof(env, v, &mut t);
    t
}

/// `createRateLimiter`'s options, read by the one options reader.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LimiterOptions {
    limit: Int<1, MAX_LIMIT>,
    window_ms: Option<Int<1, MAX_WINDOW_MS>>,
    burst: Option<Int<1, MAX_LIMIT>>,
    max_keys: Option<Int<1, { MAX_KEYS as u64 }>>,
    ipv6_subnet: Option<Subnet>,
    clock: Option<ClockName>,
    algorithm: Option<AlgorithmName>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum AlgorithmName {
    Gcra,
    FixedWindow,
}

#[derive(Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ClockName {
    Coarse,
    Precise,
    Manual,
}

/// `ipv6Subnet`: `false` (no grouping) or a prefix length 1-128.
struct Subnet(Option<u8>);

impl<'de> Deserialize<'de> for Subnet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Subnet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("false or an integer from 1 to 128")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> std::result::Result<Subnet, E> {
                if b {
                    Err(E::invalid_type(Unexpected::Bool(b), &self))
                } else {
                    Ok(Subnet(None))
                }
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> std::result::Result<Subnet, E> {
                if x.fract() == 0.0 && (1.0..=128.0).contains(&x) {
                    Ok(Subnet(Some(x as u8)))
                } else {
                    Err(E::invalid_value(Unexpected::Float(x), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The code of a refused option: the option's own code where it has one.
fn code_of(option: Option<&str>) -> &'static str {
    match option {
        Some("limit") => ConfigError::Limit.code(),
        Some("windowMs") => ConfigError::Window.code(),
        Some("burst") => ConfigError::Burst.code(),
        Some("maxKeys") => ConfigError::MaxKeys.code(),
        Some("ipv6Subnet") => ConfigError::Ipv6Prefix.code(),
        _ => CODE_OPTIONS,
    }
}

fn config_error<T>(env: &Env, e: ConfigError) -> Result<T> {
    errors::range_error(env, e.code(), &e.to_string())
}

/// Creates a native rate limiter object: `{ check, consume, retryAfterMs, resetMs,
/// remaining, penalty, reward, reset, resetAll, checkBatch, sweep, stats, heapBytes,
/// checkLast, consumeLast, noop }`,
/// plus `advanceTime` when `clock: 'manual'` and `hit` when `algorithm: 'fixed-window'`.
/// Options: `limit` (required), `windowMs` (60000), `burst` (= limit, GCRA only),
/// `maxKeys` (100000), `ipv6Subnet` (false or 1-128), `clock` (`'coarse'` default,
/// `'precise'`, or `'manual'` starting at 0 ms), `algorithm` (`'gcra'` default or
/// `'fixed-window'`).
#[napi(
    catch_unwind,
    ts_args_type = "options: RateLimiterHandleOptions",
    ts_return_type = "RateLimiterHandle"
)]
pub fn create_rate_limiter<'e>(env: &'e Env, options: Unknown<'e>) -> Result<Object<'e>> {
    if options.get_type()? != ValueType::Object {
        return errors::type_error(
            env,
            CODE_OPTIONS,
            "rate limiter options must be an object such as { limit: 100, windowMs: 60000 }",
        );
    }
    // SAFETY: checked to be an object just above.
    let obj: Object<'e> = unsafe { options.cast()? };
    let o: LimiterOptions = options::read_coded(env, &obj, code_of, "RateLimiter")?;
    let mut cfg = RateLimitConfig::new(o.limit.0, o.window_ms.map_or(60_000, |w| w.0));
    cfg.burst = o.burst.map_or(cfg.limit, |b| b.0);
    cfg.max_keys = o.max_keys.map_or(DEFAULT_MAX_KEYS, |n| n.0 as usize);
    cfg.ipv6_prefix = o.ipv6_subnet.and_then(|s| s.0);
    let fixed = matches!(o.algorithm, Some(AlgorithmName::FixedWindow));
    if fixed {
        cfg.algorithm = Algorithm::FixedWindow;
        if o.burst.is_some_and(|b| b.0 != cfg.limit) {
            return config_error(env, ConfigError::BurstFixedWindow);
        }
    }
    let clock_name = o.clock.unwrap_or(ClockName::Coarse);
    let manual = (clock_name == ClockName::Manual).then(|| Arc::new(FakeClock::new(0)));
    let clock: SharedClock = match (&manual, clock_name) {
        (Some(m), _) => m.clone(),
        (None, ClockName::Precise) => Arc::new(MonotonicClock),
        _ => Arc::new(CoarseClock::new()),
    };
    let limiter = match RateLimiter::new_thread_owned(cfg, clock) {
        Ok(l) => l,
        Err(e) => return config_error(env, e),
    };
    let has_manual = manual.is_some();
    let state = Arc::new(State {
        limiter,
        manual,
        last: AtomicU64::new(0),
    });
    let obj = Object::new(env)?;
    let mut methods: Vec<(&str, raw::RawCallback)> = vec![
        ("check", check),
        ("consume", consume),
        ("checkLast", check_last),
        ("consumeLast", consume_last),
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
        ("noop", noop),
    ];
    if has_manual {
        methods.push(("advanceTime", advance_time));
    }
    if fixed {
        methods.push(("hit", hit));
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

/// express-rate-limit v8's key text of an IP address (see `core::rate_limit::ip`):
/// `null` when `ip` is not an IPv6 address; `ipv6Subnet` 0 keeps IPv6 addresses whole.
#[napi]
pub fn ip_key(ip: String, ipv6_subnet: u32) -> Option<String> {
    let prefix = u8::try_from(ipv6_subnet)
        .ok()
        .filter(|p| (1..=128).contains(p));
    ip::key_text(&ip, prefix)
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

impl State {
    /// Decides for `key` and remembers its hash for the `…Last` methods.
    #[inline]
    fn consume(&self, key: &[u8], cost: u64) -> i64 {
        let h = self.limiter.key_hash(key);
        self.last.store(h, Ordering::Relaxed);
        self.limiter.consume_hashed(h, cost)
    }
}

raw_method!(check, 1, |env, a, st: &State| {
    with_key(env, a.argv[0], |k| {
        raw::i32_value(env, st.consume(k, 1) as i32)
    })
});

raw_method!(consume, 2, |env, a, st: &State| {
    match count_arg(env, a.argv[1], 1, MAX_LIMIT as f64, "cost") {
        Ok(cost) => with_key(env, a.argv[0], |k| {
            raw::i32_value(env, st.consume(k, cost) as i32)
        }),
        Err(thrown) => thrown,
    }
});

raw_method!(
    /// `check` of the key the last `check`/`consume` was given (before any, the hash 0).
    check_last,
    0,
    |env, _a, st: &State| {
        let h = st.last.load(Ordering::Relaxed);
        raw::i32_value(env, st.limiter.consume_hashed(h, 1) as i32)
    }
);

raw_method!(consume_last, 1, |env, a, st: &State| {
    match count_arg(env, a.argv[0], 1, MAX_LIMIT as f64, "cost") {
        Ok(cost) => {
            let h = st.last.load(Ordering::Relaxed);
            raw::i32_value(env, st.limiter.consume_hashed(h, cost) as i32)
        }
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

raw_method!(hit, 2, |env, a, st: &State| {
    match count_arg(env, a.argv[1], 1, MAX_LIMIT as f64, "hits") {
        Ok(n) => with_key(env, a.argv[0], |k| {
            raw::f64_value(env, st.limiter.hit(k, n) as f64)
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

raw_method!(
    /// `noop(key, cost)`: returns 0 and reads nothing. The floor of a raw call with a
    /// check's arguments (argument fetch and state lookup included) that
    /// benchmark/rate-limiter.js measures every check against.
    noop,
    2,
    |env, _a, _st: &State| raw::i32_value(env, 0)
);

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

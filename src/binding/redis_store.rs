//! napi glue for the Redis store.
//!
//! Checks take the hot path: a raw N-API `submit(key, cost, flags, id)` spawns the check
//! on the tokio runtime and returns at once; completions are queued and delivered to JS
//! in batches through ONE long-lived threadsafe function, written into a Float64Array the
//! JS facade owns, which then settles its own promises. napi-rs's per-call promise
//! (`spawn_future`) creates and tears down a threadsafe function (a libuv async handle)
//! for every call, which cost more client CPU than the whole check (measured in
//! docs/redis.md). Maintenance commands (`resetKey`, `resetAll`) are rare
//! and stay on `#[napi]` promises.
//!
//! Results never report Redis trouble as an error: the insurance policy answers and an
//! availability change travels back as a log line the JS facade prints.

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use napi::bindgen_prelude::{Object, PromiseRaw, Unknown};
use napi::{sys, Env, JsValue, Result};
use napi_derive::napi;

use crate::binding::contract::redis_results::{ALLOWED, COUNT_DENIED, NO_QUOTA, SLOTS};
use crate::binding::errors;
use crate::binding::keys;
use crate::binding::raw::{self, raw_method};
use crate::core::clock;
use crate::core::rate_limit::{RateLimitConfig, RateLimiter, MAX_LIMIT, MAX_WINDOW_MS};
use crate::core::redis::{
    ConnOptions, Failure, HealthEvent, Insurance, LimiterOptions, LocalLimiter, Quota, RedisLimiter,
};

#[napi(object)]
pub struct NativeRedisStoreOptions {
    pub url: String,
    pub prefix: String,
    pub timeout_ms: f64,
    pub probe_interval_ms: f64,
    /// `'local' | 'open' | 'closed'`.
    pub insurance: String,
    /// Checks waiting on Redis at once; more are answered by the insurance.
    pub max_in_flight: f64,
    /// `url` is a seed node of a Redis Cluster.
    pub cluster: bool,
}

/// Outcome of a maintenance command (`resetKey`, `resetAll`).
#[napi(object)]
pub struct NativeRedisReply {
    pub ok: bool,
    /// Keys removed.
    pub count: f64,
    pub error: Option<String>,
    pub event: Option<String>,
}

#[napi(object)]
pub struct NativeRedisStats {
    pub checks: f64,
    pub redis_allowed: f64,
    pub redis_denied: f64,
    pub insurance_allowed: f64,
    pub insurance_denied: f64,
    pub overloaded: f64,
    pub commands: f64,
    pub timeouts: f64,
    pub errors: f64,
    pub skipped: f64,
    pub outages: f64,
    pub recoveries: f64,
    pub script_reloads: f64,
    pub redis_up: bool,
    pub down_for_ms: f64,
    pub last_error: String,
    pub insurance: String,
    pub closed: bool,
}

/// The native half of `redisStore()`.
#[napi]
pub struct NativeRedisStore {
    inner: Arc<RedisLimiter>,
}

fn event_line(inner: &RedisLimiter, ev: Option<HealthEvent>) -> Option<String> {
    let fallback = match inner.insurance() {
        Insurance::Local => "the local limiter (each process limits on its own)",
        Insurance::Open => "fail-open (every request allowed)",
        Insurance::Closed => "fail-closed (every request denied)",
    };
    ev.map(|e| e.message(&inner.conn().target(), fallback))
}

fn in_range(x: f64, min: f64, max: f64) -> bool {
    x.fract() == 0.0 && x >= min && x <= max
}

/// The in-process limiter for `insurance: 'local'`, with the same quota. `set_quota`
/// checks the same bounds as the local limiter, so this does not fail in practice.
fn local_limiter(quota: Quota) -> Option<Arc<dyn LocalLimiter>> {
    RateLimiter::with_coarse_clock(RateLimitConfig::new(quota.limit, quota.window_ms))
        .ok()
        .map(|l| Arc::new(l) as Arc<dyn LocalLimiter>)
}

#[napi]
impl NativeRedisStore {
    /// Validates the options; no I/O happens until the first check.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, options: NativeRedisStoreOptions) -> Result<Self> {
        let Some(insurance) = Insurance::parse(&options.insurance) else {
            return errors::type_error(
                &env,
                "ERR_QERRORS_REDIS_INSURANCE",
                "insurance must be 'local', 'open' or 'closed'",
            );
        };
        if !in_range(options.timeout_ms, 1.0, 600_000.0) {
            return errors::range_error(
                &env,
                "ERR_QERRORS_REDIS_TIMEOUT",
                "timeoutMs must be an integer from 1 to 600000",
            );
        }
        if !in_range(options.probe_interval_ms, 1.0, 3_600_000.0) {
            return errors::range_error(
                &env,
                "ERR_QERRORS_REDIS_PROBE_INTERVAL",
                "probeIntervalMs must be an integer from 1 to 3600000",
            );
        }
        if !in_range(options.max_in_flight, 1.0, 1_000_000.0) {
            return errors::range_error(
                &env,
                "ERR_QERRORS_REDIS_MAX_IN_FLIGHT",
                "maxInFlight must be an integer from 1 to 1000000",
            );
        }
        let opts = LimiterOptions {
            conn: ConnOptions {
                url: options.url,
                timeout_ms: options.timeout_ms as u64,
                probe_interval_ms: options.probe_interval_ms as u64,
                cluster: options.cluster,
            },
            prefix: options.prefix,
            insurance,
            max_in_flight: options.max_in_flight as usize,
        };
        match RedisLimiter::new(opts, clock::monotonic(), Box::new(local_limiter)) {
            Ok(l) => Ok(Self { inner: Arc::new(l) }),
            Err(e) => errors::type_error(
                &env,
                "ERR_QERRORS_REDIS_URL",
                &format!("invalid Redis url: {e}"),
            ),
        }
    }

    /// Sets the window and the limit (express-rate-limit hands them to `init`).
    #[napi(catch_unwind)]
    pub fn set_quota(&self, env: Env, window_ms: f64, limit: f64) -> Result<()> {
        if !in_range(window_ms, 1.0, MAX_WINDOW_MS as f64) {
            return errors::range_error(
                &env,
                "ERR_QERRORS_INVALID_WINDOW",
                "windowMs must be an integer from 1 to 2147483647 (about 24.8 days)",
            );
        }
        if !in_range(limit, 1.0, MAX_LIMIT as f64) {
            return errors::range_error(
                &env,
                "ERR_QERRORS_INVALID_LIMIT",
                "limit must be an integer from 1 to 10000000",
            );
        }
        self.inner.set_quota(Quota {
            window_ms: window_ms as u64,
            limit: limit as u64,
        });
        Ok(())
    }

    /// Creates the per-check entry points: an object with raw N-API methods
    /// `start(callback, results)`, `submit(key, cost, flags, id)`, `ref()`, `unref()`
    /// and `close()`. See [`Hot`].
    #[napi(catch_unwind, ts_return_type = "RedisStoreHot")]
    pub fn hot(&self, env: Env) -> Result<Object<'_>> {
        let hot = Arc::new(Hot {
            inner: Arc::clone(&self.inner),
            bridge: Arc::new(Bridge::default()),
        });
        let obj = Object::new(&env)?;
        raw::bind_methods(
            &env,
            &obj,
            &hot,
            &[
                ("start", hot_start as raw::RawCallback),
                ("submit", hot_submit),
                ("ref", hot_ref),
                ("unref", hot_unref),
                ("close", hot_close),
            ],
        )?;
        Ok(obj)
    }

    /// Deletes `key` in Redis (and in the local fallback).
    #[napi(catch_unwind, ts_return_type = "Promise<NativeRedisReply>")]
    pub fn reset_key<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "string")] key: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, NativeRedisReply>> {
        // SAFETY: `env` and `key` are live for this call.
        let Some(key) = (unsafe { keys::escaped_string(env.raw(), key.raw()) }) else {
            return errors::type_error(env, "ERR_QERRORS_INVALID_KEY", "key must be a string");
        };
        let inner = Arc::clone(&self.inner);
        env.spawn_future(async move {
            on_io(async move {
                let (r, ev) = inner.reset_key(&key).await;
                reply(&inner, r.map(|()| 0), ev)
            })
            .await
        })
    }

    /// Deletes every key under the prefix.
    #[napi(catch_unwind, ts_return_type = "Promise<NativeRedisReply>")]
    pub fn reset_all<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, NativeRedisReply>> {
        let inner = Arc::clone(&self.inner);
        env.spawn_future(async move {
            on_io(async move {
                let (r, ev) = inner.reset_all().await;
                reply(&inner, r, ev)
            })
            .await
        })
    }

    #[napi(catch_unwind)]
    pub fn stats(&self) -> NativeRedisStats {
        let l = &self.inner;
        let c = l.conn();
        let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64;
        NativeRedisStats {
            checks: n(&l.stats.checks),
            redis_allowed: n(&l.stats.redis_allowed),
            redis_denied: n(&l.stats.redis_denied),
            insurance_allowed: n(&l.stats.insurance_allowed),
            insurance_denied: n(&l.stats.insurance_denied),
            overloaded: n(&l.stats.overloaded),
            commands: n(&c.stats.commands),
            timeouts: n(&c.stats.timeouts),
            errors: n(&c.stats.errors),
            skipped: n(&c.stats.skipped),
            outages: n(&c.stats.outages),
            recoveries: n(&c.stats.recoveries),
            script_reloads: n(&c.stats.script_reloads),
            redis_up: !c.health().is_down(),
            down_for_ms: c.health().down_for_ms() as f64,
            last_error: c.last_error(),
            insurance: l.insurance().as_str().to_owned(),
            closed: c.is_closed(),
        }
    }
}

fn reply(
    inner: &RedisLimiter,
    r: std::result::Result<u64, Failure>,
    ev: Option<HealthEvent>,
) -> NativeRedisReply {
    let event = event_line(inner, ev);
    match r {
        Ok(count) => NativeRedisReply {
            ok: true,
            count: count as f64,
            error: None,
            event,
        },
        Err(f) => NativeRedisReply {
            ok: false,
            count: 0.0,
            error: Some(f.to_string()),
            event,
        },
    }
}

/// The Redis I/O runtime: one current-thread tokio runtime on its own thread, shared by
/// every store. A check then crosses threads only twice (JS -> I/O thread -> JS); on
/// napi's multi-thread runtime the check, the connection's driver task and the reply
/// hopped between workers, which cost latency and CPU (docs/redis.md).
/// The thread parks in epoll when idle and never blocks process exit.
fn runtime() -> Option<&'static tokio::runtime::Handle> {
    static RT: OnceLock<Option<tokio::runtime::Handle>> = OnceLock::new();
    RT.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        let handle = rt.handle().clone();
        std::thread::Builder::new()
            .name("qerrors-redis".into())
            .spawn(move || rt.block_on(std::future::pending::<()>()))
            .ok()?;
        Some(handle)
    })
    .as_ref()
}

/// Runs `fut` on the Redis I/O runtime from napi's runtime (for `#[napi]` promises).
async fn on_io<T: Send + 'static>(
    fut: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T> {
    let rt =
        runtime().ok_or_else(|| napi::Error::from_reason("cannot start the Redis I/O thread"))?;
    rt.spawn(fut)
        .await
        .map_err(|e| napi::Error::from_reason(e.to_string()))
}

// The results layout (`SLOTS` doubles per completion: id, flags, remaining, retry-after
// ms, reset ms, denied hits) and the flag bits are `contract::redis_results`, shared
// with lib/native/redis.js. NO_QUOTA: no quota was set (the JS facade prevents it;
// reported rather than assumed).

struct Completion {
    id: f64,
    flags: f64,
    remaining: f64,
    retry_after_ms: f64,
    reset_ms: f64,
    denied_hits: f64,
    event: Option<String>,
}

/// Completed checks waiting for the JS thread, the threadsafe function that wakes it,
/// and a reference to the results Float64Array (both set by `start`, used on the JS
/// thread only, except `napi_call_threadsafe_function`, which is thread-safe).
#[derive(Default)]
struct Bridge {
    queue: Mutex<Vec<Completion>>,
    tsfn: AtomicPtr<sys::napi_threadsafe_function__>,
    results: AtomicPtr<sys::napi_ref__>,
}

impl Bridge {
    /// Queues a completion; the first one queued after a drain wakes the JS thread.
    /// The wake-up happens under the queue lock, which `close` also takes before it
    /// releases the threadsafe function, so it is never called after its release.
    fn push(&self, c: Completion) {
        let Ok(mut q) = self.queue.lock() else { return };
        q.push(c);
        let tsfn = self.tsfn.load(Ordering::Acquire);
        if q.len() == 1 && !tsfn.is_null() {
            // SAFETY: non-null under the queue lock means `close` has not released it.
            unsafe {
                sys::napi_call_threadsafe_function(
                    tsfn,
                    ptr::null_mut(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                );
            }
        }
    }
}

/// State behind the raw methods of `NativeRedisStore.hot()`.
struct Hot {
    inner: Arc<RedisLimiter>,
    bridge: Arc<Bridge>,
}

raw_method!(
    /// `start(callback, results)`: `callback(count, event)` is called on the JS thread with
    /// `count` completions written into `results` (a Float64Array of a multiple of 6
    /// doubles), or with an availability log line as `event`. The threadsafe function starts
    /// unreferenced: the facade refs it while checks are in flight.
    hot_start, 2, |env, a, hot: &Hot| {
    let mut kind = 0;
    sys::napi_typeof(env, a.argv[0], &mut kind);
    let capacity = raw::bytes(env, a.argv[1]).map_or(0, |b| b.len() / 8 / SLOTS);
    if kind != sys::ValueType::napi_function || capacity == 0 {
        return raw::throw_type_error(
            env,
            "ERR_QERRORS_INVALID_ARG",
            "start(callback, results) needs a function and a Float64Array of 6n doubles",
        );
    }
    if !hot.bridge.tsfn.load(Ordering::Acquire).is_null() {
        return raw::throw_error(env, "ERR_QERRORS_INVALID_STATE", "already started");
    }
    let mut results_ref = ptr::null_mut();
    sys::napi_create_reference(env, a.argv[1], 1, &mut results_ref);
    let name = raw::string_value(env, "qerrors.redisStore");
    let context = Arc::into_raw(Arc::clone(&hot.bridge)) as *mut c_void;
    let mut tsfn = ptr::null_mut();
    let status = sys::napi_create_threadsafe_function(
        env,
        a.argv[0],
        ptr::null_mut(),
        name,
        0,
        1,
        ptr::null_mut(),
        Some(finalize_bridge),
        context,
        Some(deliver),
        &mut tsfn,
    );
    if status != sys::Status::napi_ok {
        drop(Arc::from_raw(context as *const Bridge));
        sys::napi_delete_reference(env, results_ref);
        return raw::throw_error(
            env,
            "ERR_QERRORS_INTERNAL",
            "cannot create the completion channel",
        );
    }
    sys::napi_unref_threadsafe_function(env, tsfn);
    hot.bridge.results.store(results_ref, Ordering::Release);
    hot.bridge.tsfn.store(tsfn, Ordering::Release);
    raw::undefined(env)
    }
);

/// Releases what `start` took once the threadsafe function is gone.
unsafe extern "C" fn finalize_bridge(env: sys::napi_env, _data: *mut c_void, context: *mut c_void) {
    let bridge = Arc::from_raw(context as *const Bridge);
    let results = bridge.results.swap(ptr::null_mut(), Ordering::AcqRel);
    if !results.is_null() && !env.is_null() {
        sys::napi_delete_reference(env, results);
    }
}

/// Runs on the JS thread: moves every queued completion into the results array and
/// calls the JS callback once per array-full, then once per log line.
unsafe extern "C" fn deliver(
    env: sys::napi_env,
    callback: sys::napi_value,
    context: *mut c_void,
    _data: *mut c_void,
) {
    if env.is_null() {
        return;
    }
    let bridge: &Bridge = &*(context as *const Bridge);
    let items = match bridge.queue.lock() {
        Ok(mut q) => std::mem::take(&mut *q),
        Err(_) => return,
    };
    let mut array = ptr::null_mut();
    sys::napi_get_reference_value(env, bridge.results.load(Ordering::Acquire), &mut array);
    let (len, data) = match raw::typed_array(env, array) {
        Some((kind, len, data))
            if kind == sys::TypedarrayType::float64_array && !data.is_null() =>
        {
            (len, data)
        }
        _ => return,
    };
    let capacity = len / SLOTS;
    let mut this = ptr::null_mut();
    sys::napi_get_undefined(env, &mut this);
    let mut events = Vec::new();
    for chunk in items.chunks(capacity.max(1)) {
        // The slice is rebuilt per chunk: the callback ran JS in between.
        let out = std::slice::from_raw_parts_mut(data as *mut f64, capacity * SLOTS);
        for (i, c) in chunk.iter().enumerate() {
            out[i * SLOTS..(i + 1) * SLOTS].copy_from_slice(&[
                c.id,
                c.flags,
                c.remaining,
                c.retry_after_ms,
                c.reset_ms,
                c.denied_hits,
            ]);
        }
        events.extend(chunk.iter().filter_map(|c| c.event.clone()));
        let argv = [raw::f64_value(env, chunk.len() as f64), this];
        let mut ignored = ptr::null_mut();
        sys::napi_call_function(env, this, callback, 2, argv.as_ptr(), &mut ignored);
    }
    for e in events {
        let argv = [raw::f64_value(env, 0.0), raw::string_value(env, &e)];
        let mut ignored = ptr::null_mut();
        sys::napi_call_function(env, this, callback, 2, argv.as_ptr(), &mut ignored);
    }
}

raw_method!(
    /// `submit(key, cost, flags, id)`: starts one check; its completion carries `id`.
    hot_submit, 4, |env, a, hot: &Hot| {
    let Some(key) = keys::escaped_string(env, a.argv[0]) else {
        return raw::throw_type_error(env, "ERR_QERRORS_INVALID_KEY", "key must be a string");
    };
    let (Some(cost), Some(flags), Some(id)) = (
        raw::get_f64(env, a.argv[1]),
        raw::get_f64(env, a.argv[2]),
        raw::get_f64(env, a.argv[3]),
    ) else {
        return raw::throw_type_error(
            env,
            "ERR_QERRORS_INVALID_ARG",
            "cost, flags and id must be numbers",
        );
    };
    let count_denied = (flags as u32) & COUNT_DENIED != 0;
    let inner = Arc::clone(&hot.inner);
    let bridge = Arc::clone(&hot.bridge);
    let Some(rt) = runtime() else {
        return raw::throw_error(
            env,
            "ERR_QERRORS_INTERNAL",
            "cannot start the Redis I/O thread",
        );
    };
    rt.spawn(async move {
        let c = match inner.check(&key, cost as i64, count_denied).await {
            Some(o) => {
                let d = o.decision;
                Completion {
                    id,
                    flags: if d.allowed { f64::from(ALLOWED) } else { 0.0 },
                    remaining: d.remaining as f64,
                    retry_after_ms: d.retry_after_ms as f64,
                    reset_ms: d.reset_ms as f64,
                    denied_hits: d.denied_hits as f64,
                    event: event_line(&inner, o.event),
                }
            }
            None => Completion {
                id,
                flags: f64::from(NO_QUOTA),
                remaining: 0.0,
                retry_after_ms: 0.0,
                reset_ms: 0.0,
                denied_hits: 0.0,
                event: None,
            },
        };
        bridge.push(c);
    });
    raw::undefined(env)
    }
);

raw_method!(
    /// `ref()`: keeps the process alive while checks are in flight.
    hot_ref, 0, |env, a, hot: &Hot| {
    let tsfn = hot.bridge.tsfn.load(Ordering::Acquire);
    if !tsfn.is_null() {
        sys::napi_ref_threadsafe_function(env, tsfn);
    }
    raw::undefined(env)
    }
);

raw_method!(
    /// `unref()`: an idle store does not keep the process alive.
    hot_unref, 0, |env, a, hot: &Hot| {
    let tsfn = hot.bridge.tsfn.load(Ordering::Acquire);
    if !tsfn.is_null() {
        sys::napi_unref_threadsafe_function(env, tsfn);
    }
    raw::undefined(env)
    }
);

raw_method!(
    /// `close()`: releases the completion channel and the Redis connection. The facade
    /// calls it once no check is in flight.
    hot_close, 0, |env, a, hot: &Hot| {
    hot.inner.conn().close();
    let tsfn = {
        let _queue = hot.bridge.queue.lock();
        hot.bridge.tsfn.swap(ptr::null_mut(), Ordering::AcqRel)
    };
    if !tsfn.is_null() {
        sys::napi_release_threadsafe_function(
            tsfn,
            sys::ThreadsafeFunctionReleaseMode::release,
        );
    }
    raw::undefined(env)
    }
);

//! napi glue for the AI pipeline: `createAiPipeline(options, onResult)` builds a pipeline and
//! returns an object with raw per-call methods (one native call per error).
//!
//! - `submit(name, code, message, stack, context, want) -> string`: the status letter, the
//!   16-hex fingerprint and the advice JSON of new offline advice (`want` >= 1) or of cached
//!   advice (`want` 2). Status: `c` cached, `r` ready (offline advice, new), `s` scheduled, `j`
//!   joined an identical analysis in flight, `x` refused (queue full, breaker open, or this
//!   error failed recently), `z` shut down.
//!   `context` is a string or a function returning one; the function is called only when an
//!   analysis is actually scheduled, so cache hits never pay for serializing a context.
//!   With a 7th argument `true`, the call also redacts the message and the stack it was
//!   given (the stack line by line through the cache of recent lines) and, when either
//!   changed, returns `[r, messageOrNull, stackOrNull]` instead of the string `r` (`null`:
//!   unchanged). The fingerprint and the analysis still use the raw strings; only the first
//!   4096 / 8192 UTF-16 units of message / stack take part, as when JS slices them.
//! - `fingerprint(name, code, message, stack) -> string`: the fingerprint alone.
//! - `get(fingerprint) -> string | undefined`, `stats() -> string` (JSON), `clear()`,
//!   `shutdown()`.
//! - `setLimitScale(cacheScale, queueScale)`: the advice cache and queue bounds as fractions
//!   (0..=1) of their configured values (memory pressure shrinks them, 1, 1 restores).
//! - `purgeExpired() -> number`: removes expired advice in small locked steps.
//!
//! Finished analyses come back through `onResult(text)`, a weak (unref'd) threadsafe function
//! called with the fingerprint followed by the advice JSON, or the fingerprint alone on failure.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use napi::bindgen_prelude::{Function, Object};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{sys, Env, Result, Status};
use napi_derive::napi;

use super::errors;
use super::raw;
use crate::core::ai::config::{AiConfig, Provider, RetryPolicy};
use crate::core::ai::deps::Deps;
use crate::core::ai::pipeline::{ErrorParts, Notifier, Pipeline, Submitted};
use crate::core::clock::monotonic;
use crate::core::fingerprint::{fingerprint, from_hex, to_hex};
use crate::core::sanitize::{redact, redact_lines};

const CODE: &str = "ERR_QERRORS_AI_OPTION";

/// Options of `createAiPipeline`; `lib/native/ai.js` fills them from the environment.
#[napi(object)]
pub struct AiPipelineOptions {
    /// `'offline'`, `'openai'` or `'gemini'`.
    pub provider: String,
    pub api_key: Option<String>,
    pub url: Option<String>,
    pub model: Option<String>,
    pub max_tokens: Option<f64>,
    pub json_mode: Option<bool>,
    pub timeout_ms: Option<f64>,
    pub connect_timeout_ms: Option<f64>,
    pub retry_attempts: Option<f64>,
    pub retry_base_ms: Option<f64>,
    pub retry_max_ms: Option<f64>,
    pub retry_after_max_ms: Option<f64>,
    pub concurrency: Option<f64>,
    pub queue_limit: Option<f64>,
    pub cache_limit: Option<f64>,
    pub cache_ttl_ms: Option<f64>,
    pub max_response_bytes: Option<f64>,
    /// Provider calls in a burst; 0 disables the rate limit.
    pub rate_limit_burst: Option<f64>,
    pub rate_limit_per_sec: Option<f64>,
    pub breaker_threshold: Option<f64>,
    pub breaker_reset_ms: Option<f64>,
    /// How long a failed analysis is not retried for the same error (0: always retry).
    pub failure_ttl_ms: Option<f64>,
    /// Redis shared by every process for the advice cache (empty or absent: none).
    pub redis_url: Option<String>,
}

type ResultFn = ThreadsafeFunction<String, (), String, Status, false, true>;

struct TsfnNotifier(ResultFn);

impl Notifier for TsfnNotifier {
    fn deliver(&self, fp: u64, advice: Option<Arc<str>>) {
        let mut text = to_hex(fp);
        if let Some(a) = advice {
            text.push_str(&a);
        }
        self.0.call(text, ThreadsafeFunctionCallMode::NonBlocking);
    }
}

/// The runtime all pipelines share: two workers, created on first use, never dropped (its
/// threads do not keep Node alive and end with the process).
fn runtime() -> std::result::Result<tokio::runtime::Handle, String> {
    static RT: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("qerrors-ai")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map(|rt| rt.handle().clone())
    .map_err(Clone::clone)
}

fn int(env: &Env, name: &str, v: Option<f64>, min: f64, max: f64, default: u64) -> Result<u64> {
    match v {
        None => Ok(default),
        Some(x) if x.is_finite() && x >= min && x <= max => Ok(x.floor() as u64),
        Some(x) => errors::range_error(
            env,
            CODE,
            &format!("AI pipeline option {name} must be a number from {min} to {max}, got {x}"),
        ),
    }
}

fn config(env: &Env, o: &AiPipelineOptions) -> Result<AiConfig> {
    let d = AiConfig::default();
    let provider = match o.provider.as_str() {
        "offline" => Provider::Offline,
        "openai" => Provider::OpenAi,
        "gemini" => Provider::Gemini,
        other => {
            return errors::range_error(
                env,
                CODE,
                &format!("AI provider must be 'offline', 'openai' or 'gemini', got '{other}'"),
            )
        }
    };
    let url = o.url.clone().unwrap_or_default();
    if provider != Provider::Offline && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return errors::type_error(
            env,
            CODE,
            "AI provider url must start with http:// or https://",
        );
    }
    const DAY_MS: f64 = 86_400_000.0;
    let retry = RetryPolicy {
        retries: int(env, "retryAttempts", o.retry_attempts, 0.0, 10.0, 2)? as u32,
        base_ms: int(
            env,
            "retryBaseMs",
            o.retry_base_ms,
            0.0,
            DAY_MS,
            d.retry.base_ms,
        )?,
        max_ms: int(
            env,
            "retryMaxMs",
            o.retry_max_ms,
            0.0,
            DAY_MS,
            d.retry.max_ms,
        )?,
        retry_after_max_ms: int(
            env,
            "retryAfterMaxMs",
            o.retry_after_max_ms,
            0.0,
            DAY_MS,
            d.retry.retry_after_max_ms,
        )?,
    };
    let burst = int(env, "rateLimitBurst", o.rate_limit_burst, 0.0, 1e6, 30)? as u32;
    let per_sec = match o.rate_limit_per_sec {
        None => 0.5,
        Some(x) if x.is_finite() && x > 0.0 && x <= 1e6 => x,
        Some(x) => {
            return errors::range_error(
                env,
                CODE,
                &format!("AI pipeline option rateLimitPerSec must be above 0, got {x}"),
            )
        }
    };
    Ok(AiConfig {
        provider,
        api_key: o.api_key.clone().unwrap_or_default(),
        url,
        model: o.model.clone().unwrap_or_default(),
        max_tokens: int(env, "maxTokens", o.max_tokens, 1.0, 1e7, 4096)? as u32,
        json_mode: o.json_mode.unwrap_or(false),
        timeout_ms: int(env, "timeoutMs", o.timeout_ms, 1.0, DAY_MS, d.timeout_ms)?,
        connect_timeout_ms: int(
            env,
            "connectTimeoutMs",
            o.connect_timeout_ms,
            1.0,
            DAY_MS,
            d.connect_timeout_ms,
        )?,
        retry,
        concurrency: int(env, "concurrency", o.concurrency, 1.0, 10_000.0, 5)? as usize,
        queue_limit: int(env, "queueLimit", o.queue_limit, 0.0, 1e6, 100)? as usize,
        cache_limit: int(env, "cacheLimit", o.cache_limit, 0.0, 1e7, 50)? as usize,
        cache_ttl_ms: int(env, "cacheTtlMs", o.cache_ttl_ms, 1.0, 1e13, d.cache_ttl_ms)?,
        max_response_bytes: int(
            env,
            "maxResponseBytes",
            o.max_response_bytes,
            1024.0,
            1e9,
            d.max_response_bytes as u64,
        )? as usize,
        rate_limit: (burst > 0).then_some((burst, per_sec)),
        breaker_threshold: int(env, "breakerThreshold", o.breaker_threshold, 1.0, 1e6, 5)? as u32,
        breaker_reset_ms: int(
            env,
            "breakerResetMs",
            o.breaker_reset_ms,
            1.0,
            DAY_MS,
            d.breaker_reset_ms,
        )?,
        failure_ttl_ms: int(
            env,
            "failureTtlMs",
            o.failure_ttl_ms,
            0.0,
            DAY_MS,
            d.failure_ttl_ms,
        )?,
        redis_url: o.redis_url.clone().filter(|u| !u.is_empty()),
    })
}

/// Creates a pipeline; see the module docs for the returned object's methods.
#[napi(catch_unwind)]
pub fn create_ai_pipeline<'env>(
    env: &'env Env,
    options: AiPipelineOptions,
    on_result: Function<'env, String, ()>,
) -> Result<Object<'env>> {
    let cfg = config(env, &options)?;
    let tsfn: ResultFn = on_result
        .build_threadsafe_function::<String>()
        .weak::<true>()
        .callee_handled::<false>()
        .build()?;
    let handle = match runtime() {
        Ok(h) => h,
        Err(e) => return errors::error(env, "ERR_QERRORS_AI_RUNTIME", &e),
    };
    // The first submit redacts; compiling the rules takes ~3-4 ms, done meanwhile elsewhere.
    drop(handle.spawn_blocking(crate::core::sanitize::warm));
    let deps = match Deps::new(&cfg, monotonic()) {
        Ok(d) => d,
        Err(e) => return errors::range_error(env, CODE, &e),
    };
    let pipeline = Arc::new(Pipeline::new(
        cfg,
        deps,
        Box::new(TsfnNotifier(tsfn)),
        handle,
    ));
    let obj = Object::new(env)?;
    raw::bind_methods(
        env,
        &obj,
        &pipeline,
        &[
            ("submit", submit),
            ("fingerprint", fingerprint_of),
            ("get", get),
            ("stats", stats),
            ("clear", clear),
            ("shutdown", shutdown),
            ("setLimitScale", set_limit_scale),
            ("purgeExpired", purge_expired),
        ],
    )?;
    Ok(obj)
}

unsafe fn arg_string(env: sys::napi_env, v: sys::napi_value) -> String {
    raw::read_string(env, v).unwrap_or_default()
}

/// Buffer sizes for name, code, message and stack; longer strings are read into a `String`.
const SCRATCH: [usize; 4] = [256, 128, 2048, 8192];

/// Per-thread buffers the per-error call reads its strings into, allocated (and zeroed)
/// once instead of on every call. Taken out while in use, so a re-entrant call (a context
/// thunk that reports another error) simply gets fresh buffers.
struct Scratch(Vec<u8>);

thread_local! {
    static SCRATCH_POOL: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

impl Scratch {
    fn take() -> Self {
        let mut v = SCRATCH_POOL.with(std::cell::Cell::take);
        v.resize(SCRATCH.iter().sum(), 0);
        Self(v)
    }

    fn split(&mut self) -> [&mut [u8]; 4] {
        let (a, rest) = self.0.split_at_mut(SCRATCH[0]);
        let (b, rest) = rest.split_at_mut(SCRATCH[1]);
        let (c, d) = rest.split_at_mut(SCRATCH[2]);
        [a, b, c, d]
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.0);
        SCRATCH_POOL.with(|p| p.set(v));
    }
}

/// Reads a string argument into `buf` without allocating when it fits; anything that is not
/// a string reads as empty.
unsafe fn arg_str<'a>(env: sys::napi_env, v: sys::napi_value, buf: &'a mut [u8]) -> Cow<'a, str> {
    match raw::read_str(env, v, buf) {
        // N-API writes valid UTF-8 (lone surrogates become U+FFFD).
        raw::StrRead::Ok(b) => std::str::from_utf8(b).map_or(Cow::Borrowed(""), Cow::Borrowed),
        raw::StrRead::TooLong(_) => Cow::Owned(arg_string(env, v)),
        raw::StrRead::NotString => Cow::Borrowed(""),
    }
}

/// Calls a context thunk (or reads a string); a throwing thunk yields an empty context.
unsafe fn context_of(env: sys::napi_env, v: sys::napi_value) -> String {
    let mut kind = sys::ValueType::napi_undefined;
    sys::napi_typeof(env, v, &mut kind);
    if kind == sys::ValueType::napi_string {
        return arg_string(env, v);
    }
    if kind != sys::ValueType::napi_function {
        return String::new();
    }
    let this = raw::undefined(env);
    let mut out = std::ptr::null_mut();
    if sys::napi_call_function(env, this, v, 0, std::ptr::null(), &mut out) != sys::Status::napi_ok
    {
        let mut exc = std::ptr::null_mut();
        sys::napi_get_and_clear_last_exception(env, &mut exc);
        return String::new();
    }
    arg_string(env, out)
}

unsafe extern "C" fn submit(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<7>(env, info);
        let p: &Pipeline = raw::state(a.data);
        let mut scratch = Scratch::take();
        let [b0, b1, b2, b3] = scratch.split();
        let name = arg_str(env, a.argv[0], b0);
        let code = arg_str(env, a.argv[1], b1);
        let message = arg_str(env, a.argv[2], b2);
        let stack = arg_str(env, a.argv[3], b3);
        let parts = ErrorParts {
            name: &name,
            code: &code,
            message: &message,
            stack: &stack,
        };
        // 0: no advice text, 1: new offline advice only, 2: cached advice too.
        let mut want = 0i32;
        sys::napi_get_value_int32(env, a.argv[5], &mut want);
        let mut redacting = false;
        sys::napi_get_value_bool(env, a.argv[6], &mut redacting);
        // Redacted before the analysis is spawned: the regexes keep a fast search cache for
        // the first thread that uses them, which must be this one, not a runtime thread
        // building a prompt.
        let redacted = redacting.then(|| (redact(&message), redact_lines(&stack)));
        let (fp, status) = p.submit(&parts, || context_of(env, a.argv[4]));
        let (letter, advice) = match &status {
            Submitted::Cached(s) => ('c', (want >= 2).then_some(s)),
            Submitted::Ready(s) => ('r', (want >= 1).then_some(s)),
            Submitted::Scheduled => ('s', None),
            Submitted::Joined => ('j', None),
            Submitted::Rejected => ('x', None),
            Submitted::Closed => ('z', None),
        };
        let mut out = String::with_capacity(17 + advice.map_or(0, |s| s.len()));
        out.push(letter);
        out.push_str(&to_hex(fp));
        if let Some(s) = advice {
            out.push_str(s);
        }
        let r = raw::string_value(env, &out);
        let Some((m, s)) = redacted else {
            return r;
        };
        if matches!((&m, &s), (Cow::Borrowed(_), Cow::Borrowed(_))) {
            return r;
        }
        // Unchanged text goes back as null: JS keeps its own string, none is copied.
        let changed = |c: &Cow<'_, str>| match c {
            Cow::Borrowed(_) => raw::null(env),
            Cow::Owned(t) => raw::string_value(env, t),
        };
        raw::array_of(env, &[r, changed(&m), changed(&s)])
    })
}

unsafe extern "C" fn fingerprint_of(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<4>(env, info);
        let mut scratch = Scratch::take();
        let [b0, b1, b2, b3] = scratch.split();
        let fp = fingerprint(
            &arg_str(env, a.argv[0], b0),
            &arg_str(env, a.argv[1], b1),
            &arg_str(env, a.argv[2], b2),
            &arg_str(env, a.argv[3], b3),
        );
        raw::string_value(env, &to_hex(fp))
    })
}

unsafe extern "C" fn get(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<1>(env, info);
        let p: &Pipeline = raw::state(a.data);
        let mut buf = [0u8; 32];
        let fp = match raw::read_str(env, a.argv[0], &mut buf) {
            raw::StrRead::Ok(b) => std::str::from_utf8(b).ok().and_then(from_hex),
            _ => None,
        };
        match fp.and_then(|fp| p.get(fp)) {
            Some(s) => raw::string_value(env, &s),
            None => raw::undefined(env),
        }
    })
}

unsafe extern "C" fn stats(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<0>(env, info);
        let p: &Pipeline = raw::state(a.data);
        raw::string_value(env, &p.stats_json())
    })
}

unsafe extern "C" fn clear(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<0>(env, info);
        let p: &Pipeline = raw::state(a.data);
        p.clear_cache();
        raw::undefined(env)
    })
}

unsafe extern "C" fn shutdown(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<0>(env, info);
        let p: &Pipeline = raw::state(a.data);
        p.shutdown();
        raw::undefined(env)
    })
}

unsafe extern "C" fn set_limit_scale(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<2>(env, info);
        let p: &Pipeline = raw::state(a.data);
        let scale = |v| raw::get_f64(env, v).filter(|x| (0.0..=1.0).contains(x));
        match (scale(a.argv[0]), scale(a.argv[1])) {
            (Some(c), Some(q)) => {
                p.set_limit_scale(c, q);
                raw::undefined(env)
            }
            _ => raw::throw_range_error(
                env,
                CODE,
                "setLimitScale(cacheScale, queueScale) needs two numbers from 0 to 1",
            ),
        }
    })
}

unsafe extern "C" fn purge_expired(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    raw::guard(env, || {
        let a = raw::args::<0>(env, info);
        let p: &Pipeline = raw::state(a.data);
        raw::f64_value(env, p.purge_expired() as f64)
    })
}

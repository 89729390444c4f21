//! napi glue for the AI pipeline: `createAiPipeline(settings, onResult)` builds a pipeline and
//! returns an object with raw per-call methods (one native call per error).
//!
//! - `submit(name, code, message, stack, context, want) -> string`: the status letter, the
//!   16-hex fingerprint and the advice JSON of new offline advice (`want` >= 1) or of cached
//!   advice (`want` 2). The letters, the digit count and the `want` levels are
//!   `contract::ai_submit`, generated for JS into `lib/native/contract.js`. Status: `c` cached, `r` ready (offline advice, new), `s` scheduled, `j`
//!   joined an identical analysis in flight, `x` refused (queue full, breaker open, or this
//!   error failed recently), `z` shut down.
//!   `context` is a string or a function returning one; the function is called only when an
//!   analysis is actually scheduled, so cache hits never pay for serializing a context.
//!   With a 7th argument `true`, the call also redacts the message and the stack it was
//!   given (the stack line by line through the cache of recent lines) and, when either
//!   changed, returns `[r, messageOrNull, stackOrNull]` instead of the string `r` (`null`:
//!   unchanged). The fingerprint and the analysis still use the raw strings; only the first
//!   4096 / 8192 UTF-16 units of message / stack take part, as when JS slices them. The
//!   redacted stack is also kept for the error's log entry (src/binding/error_path.rs).
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
use serde::Deserialize;

use super::contract::ai_submit;
use super::errors;
use super::options::{self, Float};
use super::raw::{self, raw_method};
use crate::core::ai::config::{AiConfig, Provider, RetryPolicy};
use crate::core::ai::deps::Deps;
use crate::core::ai::pipeline::{ErrorParts, Notifier, Pipeline, Submitted};
use crate::core::clock::monotonic;
use crate::core::fingerprint::{fingerprint, from_hex, to_hex};
use crate::core::sanitize::redact_lines;

const CODE: &str = "ERR_QERRORS_AI_OPTION";

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

/// Longest duration setting: one day.
const DAY_MS: u64 = 86_400_000;

/// The provider names the settings accept; `google` is the same provider as `gemini`.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum ProviderName {
    Offline,
    Openai,
    #[serde(alias = "google")]
    Gemini,
}

/// The fully resolved AI settings `createAiPipeline` takes from JS. The JS configuration
/// module alone holds the defaults and the environment variables; this struct only
/// checks what it is given (bounds, required fields) and never fills a value in.
/// Durations and counts are JS numbers; fractions are dropped, as `Math.floor` would.
/// The shape is documented in docs/native-contract.md ("AI settings passed to Rust").
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AiSettings {
    provider: ProviderName,
    /// Required for `openai` and `gemini`, unused offline.
    api_key: Option<String>,
    /// Full endpoint URL (http or https); required unless offline.
    url: Option<String>,
    model: Option<String>,
    max_tokens: Option<Float<1, 10_000_000>>,
    json_mode: Option<bool>,
    timeout_ms: Float<1, DAY_MS>,
    connect_timeout_ms: Float<1, DAY_MS>,
    retry_attempts: Float<0, 10>,
    retry_base_ms: Float<0, DAY_MS>,
    retry_max_ms: Float<0, DAY_MS>,
    retry_after_max_ms: Float<0, DAY_MS>,
    concurrency: Float<1, 10_000>,
    queue_limit: Float<0, 1_000_000>,
    cache_limit: Float<0, 10_000_000>,
    cache_ttl_ms: Float<1, 10_000_000_000_000>,
    max_response_bytes: Float<1024, 1_000_000_000>,
    /// Provider calls in a burst; 0 disables the rate limit.
    rate_limit_burst: Float<0, 1_000_000>,
    /// Calls refilled per second; required (above 0) when `rateLimitBurst` is not 0.
    rate_limit_per_sec: Option<Float<0, 1_000_000>>,
    breaker_threshold: Float<1, 1_000_000>,
    breaker_reset_ms: Float<1, DAY_MS>,
    /// How long a failed analysis is not retried for the same error (0: always retry).
    failure_ttl_ms: Float<0, DAY_MS>,
    /// Redis shared by every process for the advice cache (absent or empty: none).
    redis_url: Option<String>,
}

/// A whole number from a bounded JS number, as `Math.floor` gives it.
fn whole<const MIN: u64, const MAX: u64>(x: Float<MIN, MAX>) -> u64 {
    x.0.floor() as u64
}

/// Turns checked settings into the pipeline's configuration; `Err` names what is missing
/// or inconsistent.
fn config(s: AiSettings) -> std::result::Result<AiConfig, String> {
    let provider = match s.provider {
        ProviderName::Offline => Provider::Offline,
        ProviderName::Openai => Provider::OpenAi,
        ProviderName::Gemini => Provider::Gemini,
    };
    let online = provider != Provider::Offline;
    let required = |name: &str, v: Option<String>| match v {
        Some(v) => Ok(v),
        None if !online => Ok(String::new()),
        None => Err(format!(
            "AI settings.{name} is required for provider '{}'",
            provider.source()
        )),
    };
    let url = required("url", s.url)?;
    if online && !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err("AI settings.url must start with http:// or https://".to_owned());
    }
    let max_tokens = match s.max_tokens {
        Some(n) => whole(n) as u32,
        None if !online => 0,
        None => {
            return Err(format!(
                "AI settings.maxTokens is required for provider '{}'",
                provider.source()
            ))
        }
    };
    let burst = whole(s.rate_limit_burst) as u32;
    let rate_limit = match (burst, s.rate_limit_per_sec) {
        (0, _) => None,
        (b, Some(r)) if r.0 > 0.0 => Some((b, r.0)),
        _ => {
            return Err(
                "AI settings.rateLimitPerSec must be above 0 when rateLimitBurst is not 0"
                    .to_owned(),
            )
        }
    };
    Ok(AiConfig {
        provider,
        api_key: required("apiKey", s.api_key)?,
        url,
        model: required("model", s.model)?,
        max_tokens,
        json_mode: match s.json_mode {
            Some(b) => b,
            None if !online => false,
            None => {
                return Err(format!(
                    "AI settings.jsonMode is required for provider '{}'",
                    provider.source()
                ))
            }
        },
        timeout_ms: whole(s.timeout_ms),
        connect_timeout_ms: whole(s.connect_timeout_ms),
        retry: RetryPolicy {
            retries: whole(s.retry_attempts) as u32,
            base_ms: whole(s.retry_base_ms),
            max_ms: whole(s.retry_max_ms),
            retry_after_max_ms: whole(s.retry_after_max_ms),
        },
        concurrency: whole(s.concurrency) as usize,
        queue_limit: whole(s.queue_limit) as usize,
        cache_limit: whole(s.cache_limit) as usize,
        cache_ttl_ms: whole(s.cache_ttl_ms),
        max_response_bytes: whole(s.max_response_bytes) as usize,
        rate_limit,
        breaker_threshold: whole(s.breaker_threshold) as u32,
        breaker_reset_ms: whole(s.breaker_reset_ms),
        failure_ttl_ms: whole(s.failure_ttl_ms),
        redis_url: s.redis_url.filter(|u| !u.is_empty()),
    })
}

/// Creates a pipeline; see the module docs for the returned object's methods.
#[napi(catch_unwind, ts_return_type = "AiPipelineHandle")]
pub fn create_ai_pipeline<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "AiSettings")] settings: Object<'env>,
    on_result: Function<'env, String, ()>,
) -> Result<Object<'env>> {
    let settings: AiSettings = options::read(env, &settings, CODE, "AI settings")?;
    let cfg = match config(settings) {
        Ok(c) => c,
        Err(msg) => return errors::type_error(env, CODE, &msg),
    };
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

raw_method!(submit, 7, |env, a, p: &Pipeline| {
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
    let mut want = ai_submit::WANT_NONE;
    sys::napi_get_value_int32(env, a.argv[5], &mut want);
    let mut redacting = false;
    sys::napi_get_value_bool(env, a.argv[6], &mut redacting);
    // Redacted before the analysis is spawned: the regexes keep a fast search cache for
    // the first thread that uses them, which must be this one, not a runtime thread
    // building a prompt.
    let redacted = redacting.then(|| (redact_lines(&message), redact_lines(&stack)));
    let (fp, status) = p.submit(&parts, || context_of(env, a.argv[4]));
    let (letter, advice) = match &status {
        Submitted::Cached(s) => (
            ai_submit::CACHED,
            (want >= ai_submit::WANT_ALL).then_some(s),
        ),
        Submitted::Ready(s) => (ai_submit::READY, (want >= ai_submit::WANT_NEW).then_some(s)),
        Submitted::Scheduled => (ai_submit::SCHEDULED, None),
        Submitted::Joined => (ai_submit::JOINED, None),
        Submitted::Rejected => (ai_submit::REJECTED, None),
        Submitted::Closed => (ai_submit::CLOSED, None),
    };
    let mut out = String::with_capacity(1 + ai_submit::HEX_DIGITS + advice.map_or(0, |s| s.len()));
    out.push(letter);
    out.push_str(&to_hex(fp));
    if let Some(s) = advice {
        out.push_str(s);
    }
    let r = raw::string_value(env, &out);
    let Some((m, s)) = redacted else {
        return r;
    };
    let result = if matches!((&m, &s), (Cow::Borrowed(_), Cow::Borrowed(_))) {
        r
    } else {
        // Unchanged text goes back as null: JS keeps its own string, none is copied.
        let changed = |c: &Cow<'_, str>| match c {
            Cow::Borrowed(_) => raw::null(env),
            Cow::Owned(t) => raw::string_value(env, t),
        };
        raw::array_of(env, &[r, changed(&m), changed(&s)])
    };
    // The log entry of this error takes the redacted stack from here (lib/native/keptStack.js).
    super::error_path::keep_stack(&s);
    result
});

raw_method!(fingerprint_of, 4, |env, a, _p: &Pipeline| {
    let mut scratch = Scratch::take();
    let [b0, b1, b2, b3] = scratch.split();
    let fp = fingerprint(
        &arg_str(env, a.argv[0], b0),
        &arg_str(env, a.argv[1], b1),
        &arg_str(env, a.argv[2], b2),
        &arg_str(env, a.argv[3], b3),
    );
    raw::string_value(env, &to_hex(fp))
});

raw_method!(get, 1, |env, a, p: &Pipeline| {
    let mut buf = [0u8; 32];
    let fp = match raw::read_str(env, a.argv[0], &mut buf) {
        raw::StrRead::Ok(b) => std::str::from_utf8(b).ok().and_then(from_hex),
        _ => None,
    };
    match fp.and_then(|fp| p.get(fp)) {
        Some(s) => raw::string_value(env, &s),
        None => raw::undefined(env),
    }
});

raw_method!(stats, 0, |env, a, p: &Pipeline| {
    raw::string_value(env, &p.stats_json())
});

raw_method!(clear, 0, |env, a, p: &Pipeline| {
    p.clear_cache();
    raw::undefined(env)
});

raw_method!(shutdown, 0, |env, a, p: &Pipeline| {
    p.shutdown();
    raw::undefined(env)
});

raw_method!(set_limit_scale, 2, |env, a, p: &Pipeline| {
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
});

raw_method!(purge_expired, 0, |env, a, p: &Pipeline| {
    raw::f64_value(env, p.purge_expired() as f64)
});

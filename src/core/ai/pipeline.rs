//! The analysis pipeline, one [`Pipeline::submit`] per error:
//!
//! fingerprint → advice cache lookup → (offline advisor, or) refuse while the breaker is open
//! or the error failed recently → de-duplicate identical in-flight analyses → bound running +
//! queued analyses (overflow rejected and counted) → on a tokio
//! worker: wait for a slot → redact → build the prompt → rate-limit provider calls → circuit
//! breaker → HTTP with retries → extract and parse the answer → cache → notify. With a
//! Redis URL, the worker first looks in the advice cache shared with other processes and
//! waits for another process's analysis of the same fingerprint instead of repeating it.
//!
//! `submit` runs on the caller's thread (the JS main thread) and does only the cheap part;
//! everything from redaction on runs on the runtime. Results reach the caller through a
//! [`Notifier`] as the fingerprint plus the advice JSON text (or `None` on failure).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use tokio::sync::{watch, OnceCell, Semaphore};

use super::advisor;
use super::client::HttpClient;
use super::config::{AiConfig, Provider};
use super::deps::Deps;
use super::prompt::build_prompt;
use super::providers::{build_request, extract_content, parse_advice};
use crate::core::fingerprint::{fingerprint, to_hex};
use crate::core::redis::{HealthEvent, Shared};

/// While another process analyses the same error, how often this one looks for its advice.
const SHARED_POLL_MS: u64 = 25;

/// Largest advice document handed to JS; real advice is a few KB.
pub const MAX_ADVICE_BYTES: usize = 64 * 1024;

/// Cache slots examined per lock hold by [`Pipeline::purge_expired`].
const PURGE_STEP: usize = 64;

/// How much of a message and a stack (in UTF-16 units, as JS counts) the pipeline uses,
/// the bounds `lib/native/ai.js` slices to: the fingerprint reads 2 KB of message and ten
/// frames, the prompt less. Callers that also redact the full strings pass them longer.
pub const MAX_MESSAGE_UNITS: usize = 4096;
pub const MAX_STACK_UNITS: usize = 8192;

/// The longest prefix of `s` of at most `max` UTF-16 units, cut on a char boundary: what
/// JS's `s.slice(0, max)` keeps, so fingerprints match those of JS-sliced input (except
/// when JS would split a surrogate pair, which it turns into U+FFFD).
fn prefix_utf16(s: &str, max: usize) -> &str {
    // A char has at least as many UTF-8 bytes as UTF-16 units.
    if s.len() <= max {
        return s;
    }
    // ASCII prefix (stack traces): one unit per byte, and `max` is a char boundary.
    if s.as_bytes()[..max].is_ascii() {
        return &s[..max];
    }
    let mut units = 0;
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        if units > max {
            return &s[..i];
        }
    }
    s
}

/// An error owned by a scheduled analysis.
#[derive(Debug, Clone, Default)]
struct ErrorInput {
    name: String,
    message: String,
    stack: String,
    context: String,
}

/// One error as borrowed strings, for [`Pipeline::submit`]; copied only when an analysis
/// is actually scheduled.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorParts<'a> {
    pub name: &'a str,
    pub code: &'a str,
    pub message: &'a str,
    pub stack: &'a str,
}

impl<'a> ErrorParts<'a> {
    /// The parts the pipeline uses: message and stack cut to what JS slices them to, so
    /// longer input neither changes the fingerprint nor grows a scheduled analysis.
    fn bounded(&self) -> Self {
        Self {
            message: prefix_utf16(self.message, MAX_MESSAGE_UNITS),
            stack: prefix_utf16(self.stack, MAX_STACK_UNITS),
            ..*self
        }
    }
}

/// Receives finished analyses. Called on a runtime thread; must not block.
pub trait Notifier: Send + Sync {
    fn deliver(&self, fp: u64, advice: Option<Arc<str>>);
}

/// What `submit` did with an error.
#[derive(Debug, Clone, PartialEq)]
pub enum Submitted {
    /// Advice was in the cache.
    Cached(Arc<str>),
    /// The offline advisor answered at once.
    Ready(Arc<str>),
    /// An analysis started; the notifier will be called for this fingerprint.
    Scheduled,
    /// An identical analysis is already in flight; its result will be delivered.
    Joined,
    /// Running and queued analyses are at their bound, the breaker is open, or this
    /// error's analysis failed recently; nothing will be delivered.
    Rejected,
    /// The pipeline was shut down.
    Closed,
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    offline: AtomicU64,
    scheduled: AtomicU64,
    deduplicated: AtomicU64,
    rejected: AtomicU64,
    queued: AtomicU64,
    running: AtomicU64,
    provider_calls: AtomicU64,
    rate_limited: AtomicU64,
    breaker_rejected: AtomicU64,
    succeeded: AtomicU64,
    failed: AtomicU64,
    cancelled: AtomicU64,
    skipped_failed: AtomicU64,
    /// Advice found in the Redis-shared cache (often computed by another process).
    shared_hits: AtomicU64,
    purged: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Decrements a gauge when dropped, so cancellation cannot leave it high.
struct Gauge<'a>(&'a AtomicU64);

impl<'a> Gauge<'a> {
    fn up(c: &'a AtomicU64) -> Self {
        c.fetch_add(1, Ordering::Relaxed);
        Self(c)
    }
}

impl Drop for Gauge<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Inner {
    cfg: AiConfig,
    /// Built by the first analysis, on a runtime thread: loading TLS roots takes ~10 ms,
    /// which must not stall the JS thread that reports the first error.
    client: OnceCell<Result<HttpClient, String>>,
    deps: Deps,
    notifier: Box<dyn Notifier>,
    in_flight: Mutex<HashSet<u64>>,
    slots: Semaphore,
    cancel: watch::Sender<bool>,
    closed: AtomicBool,
    runtime: tokio::runtime::Handle,
    counters: Counters,
    last_error: Mutex<Option<String>>,
    /// Bounds in force: the configured ones, or smaller under memory pressure.
    cache_limit: AtomicUsize,
    queue_limit: AtomicUsize,
}

/// The pipeline. Cheap to share (`Arc` inside); `Send + Sync`.
#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

impl Pipeline {
    /// A pipeline running its analyses on `runtime`.
    pub fn new(
        cfg: AiConfig,
        deps: Deps,
        notifier: Box<dyn Notifier>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        let (cancel, _) = watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                slots: Semaphore::new(cfg.concurrency.max(1)),
                cache_limit: AtomicUsize::new(cfg.cache_limit),
                queue_limit: AtomicUsize::new(cfg.queue_limit),
                cfg,
                client: OnceCell::new(),
                deps,
                notifier,
                in_flight: Mutex::new(HashSet::new()),
                cancel,
                closed: AtomicBool::new(false),
                runtime,
                counters: Counters::default(),
                last_error: Mutex::new(None),
            }),
        }
    }

    /// Takes one error; see the module docs. Never blocks. `context` is called only when an
    /// analysis is actually scheduled (a cache hit never pays for building it).
    pub fn submit(
        &self,
        parts: &ErrorParts<'_>,
        context: impl FnOnce() -> String,
    ) -> (u64, Submitted) {
        let inner = &self.inner;
        let parts = parts.bounded();
        let fp = fingerprint(parts.name, parts.code, parts.message, parts.stack);
        if inner.closed.load(Ordering::Acquire) {
            return (fp, Submitted::Closed);
        }
        if let Some(advice) = inner.deps.cache_get(fp) {
            bump(&inner.counters.hits);
            return (fp, Submitted::Cached(advice));
        }
        bump(&inner.counters.misses);
        if inner.cfg.provider == Provider::Offline {
            let map = advisor::advise(parts.name, parts.code, parts.message);
            return match finalize(map, fp, Provider::Offline) {
                Some(advice) => {
                    bump(&inner.counters.offline);
                    inner.deps.cache_insert(fp, advice.clone());
                    (fp, Submitted::Ready(advice))
                }
                None => (fp, Submitted::Rejected),
            };
        }
        if inner.deps.failed_recently(fp) {
            bump(&inner.counters.skipped_failed);
            return (fp, Submitted::Rejected);
        }
        if inner.deps.breaker_open() {
            bump(&inner.counters.breaker_rejected);
            return (fp, Submitted::Rejected);
        }
        {
            let mut set = lock(&inner.in_flight);
            if set.contains(&fp) {
                bump(&inner.counters.deduplicated);
                return (fp, Submitted::Joined);
            }
            if set.len() >= inner.cfg.concurrency.max(1) + inner.queue_limit.load(Ordering::Relaxed)
            {
                bump(&inner.counters.rejected);
                return (fp, Submitted::Rejected);
            }
            set.insert(fp);
        }
        // From here on the guard owns the in-flight entry: whatever happens, it is released.
        let settle = Settle {
            inner: Arc::clone(inner),
            fp,
            result: Err(false),
        };
        let input = ErrorInput {
            name: parts.name.to_owned(),
            message: parts.message.to_owned(),
            stack: parts.stack.to_owned(),
            context: context(),
        };
        bump(&inner.counters.scheduled);
        inner.runtime.spawn(async move {
            let mut settle = settle;
            let inner = Arc::clone(&settle.inner);
            let mut cancel = inner.cancel.subscribe();
            settle.result = tokio::select! {
                _ = cancel.wait_for(|c| *c) => {
                    bump(&inner.counters.cancelled);
                    Err(false)
                }
                r = inner.analyse_shared(fp, &input) => r,
            };
        });
        (fp, Submitted::Scheduled)
    }

    /// Cached advice for a fingerprint.
    pub fn get(&self, fp: u64) -> Option<Arc<str>> {
        self.inner.deps.cache_get(fp)
    }

    /// Empties the advice cache.
    pub fn clear_cache(&self) {
        self.inner.deps.cache_clear();
    }

    /// Scales the advice cache's entry bound and the analysis queue bound to fractions
    /// (0..=1) of their configured values: `(1.0, 1.0)` restores them. A shrunk cache
    /// evicts its least recently used entries at once; a shrunk queue refuses new
    /// analyses until it drains below the new bound (queued ones are kept). A cache that
    /// is off stays off, and a cache that is on keeps at least one entry.
    pub fn set_limit_scale(&self, cache_scale: f64, queue_scale: f64) {
        let i = &self.inner;
        let scaled = |n: usize, f: f64| (n as f64 * f.clamp(0.0, 1.0)).ceil() as usize;
        if i.cfg.cache_limit > 0 {
            let max = scaled(i.cfg.cache_limit, cache_scale).max(1);
            i.cache_limit.store(max, Ordering::Relaxed);
            i.deps.cache_set_max(max);
        }
        i.queue_limit
            .store(scaled(i.cfg.queue_limit, queue_scale), Ordering::Relaxed);
    }

    /// Removes expired advice (and expired failure marks), a few slots per lock hold;
    /// returns how many entries it removed.
    pub fn purge_expired(&self) -> usize {
        let n = self.inner.deps.purge_expired(PURGE_STEP);
        self.inner
            .counters
            .purged
            .fetch_add(n as u64, Ordering::Relaxed);
        n
    }

    /// Cancels everything pending or running; later submissions return `Closed`.
    pub fn shutdown(&self) {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.cancel.send_replace(true);
    }

    /// Counters and gauges as a JSON object (plain numbers and a few strings).
    pub fn stats_json(&self) -> String {
        let i = &self.inner;
        let c = &i.counters;
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let v = serde_json::json!({
            "provider": i.cfg.provider.source(),
            "model": i.cfg.model,
            "cacheHits": n(&c.hits),
            "cacheMisses": n(&c.misses),
            "cacheSize": i.deps.cache_len(),
            "cacheLimit": i.cache_limit.load(Ordering::Relaxed),
            "configuredCacheLimit": i.cfg.cache_limit,
            "purged": n(&c.purged),
            "cacheEvictions": i.deps.cache_evictions(),
            "offline": n(&c.offline),
            "scheduled": n(&c.scheduled),
            "deduplicated": n(&c.deduplicated),
            "rejected": n(&c.rejected),
            "queued": n(&c.queued),
            "inFlight": n(&c.running),
            "pending": lock(&i.in_flight).len(),
            "concurrency": i.cfg.concurrency,
            "queueLimit": i.queue_limit.load(Ordering::Relaxed),
            "configuredQueueLimit": i.cfg.queue_limit,
            "providerCalls": n(&c.provider_calls),
            "rateLimited": n(&c.rate_limited),
            "breakerRejected": n(&c.breaker_rejected),
            "breakerState": i.deps.breaker_state(),
            "succeeded": n(&c.succeeded),
            "failed": n(&c.failed),
            "cancelled": n(&c.cancelled),
            "skippedRecentFailure": n(&c.skipped_failed),
            "sharedCache": i.deps.shared().is_some(),
            "sharedHits": n(&c.shared_hits),
            "redisUp": i.deps.shared().is_none_or(|s| !s.conn().health().is_down()),
            "redisOutages": i.deps.shared().map_or(0, |s| s.conn().stats.outages.load(Ordering::Relaxed)),
            "closed": i.closed.load(Ordering::Acquire),
            "lastError": *lock(&i.last_error),
        });
        v.to_string()
    }
}

/// Ends one analysis when its task ends, however it ends (result, cancellation, or a panic
/// unwinding through the task): caches a result, leaves the in-flight set, and notifies, so
/// no JS promise can be left waiting.
struct Settle {
    inner: Arc<Inner>,
    fp: u64,
    /// The advice, or whether the failure is remembered for `failure_ttl_ms` (a refusal by
    /// the breaker, a cancellation or a panic is not: the error itself is not at fault).
    result: Result<Arc<str>, bool>,
}

impl Drop for Settle {
    fn drop(&mut self) {
        let inner = &self.inner;
        let result = std::mem::replace(&mut self.result, Err(false));
        let closed = inner.closed.load(Ordering::Acquire);
        match &result {
            Ok(advice) => inner.deps.cache_insert(self.fp, advice.clone()),
            Err(true) if !closed => inner.deps.mark_failed(self.fp),
            Err(_) => {}
        }
        lock(&inner.in_flight).remove(&self.fp);
        if !closed {
            inner.notifier.deliver(self.fp, result.ok());
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    /// Records a failed analysis; the error is remembered for `failure_ttl_ms`.
    fn fail(&self, why: String) -> Result<Arc<str>, bool> {
        bump(&self.counters.failed);
        *lock(&self.last_error) = Some(why);
        Err(true)
    }

    /// [`analyse`](Self::analyse) through the Redis-shared advice cache when configured:
    /// advice another process cached is used as is, and while another process analyses
    /// the same fingerprint this one waits for its advice instead of calling the provider
    /// too. A Redis outage degrades to analysing locally, with one log line per outage.
    async fn analyse_shared(&self, fp: u64, input: &ErrorInput) -> Result<Arc<str>, bool> {
        let Some(shared) = self.deps.shared() else {
            return self.analyse(fp, input).await;
        };
        // The in-flight marker must outlive one whole analysis: every attempt's timeout
        // and the backoff between them, plus a margin.
        let attempts = u64::from(self.cfg.retry.retries) + 1;
        let lock_ms = self
            .cfg
            .timeout_ms
            .saturating_add(self.cfg.retry.max_ms)
            .saturating_mul(attempts)
            .saturating_add(1000);
        let mut events = Vec::new();
        // `analyse`'s error (whether the failure is remembered) survives the shared path.
        let mut failed = true;
        let got = shared
            .get_or_compute(
                &to_hex(fp),
                self.cfg.cache_ttl_ms,
                lock_ms,
                SHARED_POLL_MS,
                || async {
                    self.analyse(fp, input)
                        .await
                        .map_err(|remember| failed = remember)
                        .ok()
                },
                &mut events,
            )
            .await;
        for e in events {
            let line = e.message(&shared.conn().target(), "the local advice cache");
            eprintln!("{line}");
            if matches!(e, HealthEvent::Down(_)) {
                *lock(&self.last_error) = Some(line);
            }
        }
        match got {
            Some(Shared::Hit(advice)) => {
                bump(&self.counters.shared_hits);
                Ok(advice)
            }
            Some(Shared::Computed(advice)) => Ok(advice),
            None => Err(failed),
        }
    }

    async fn analyse(&self, fp: u64, input: &ErrorInput) -> Result<Arc<str>, bool> {
        let permit = {
            let _queued = Gauge::up(&self.counters.queued);
            self.slots.acquire().await.map_err(|_| false)?
        };
        let _running = Gauge::up(&self.counters.running);
        let r = &self.deps;
        let prompt = build_prompt(
            &r.redact(&input.name),
            &r.redact(&input.message),
            &r.redact(&input.context),
            &r.redact(&input.stack),
        );
        let Some(req) = build_request(&self.cfg, &prompt) else {
            return self.fail("no provider configured".into());
        };
        let built = self
            .client
            .get_or_init(|| async {
                let c = &self.cfg;
                HttpClient::new(
                    c.retry,
                    c.timeout_ms,
                    c.connect_timeout_ms,
                    c.max_response_bytes,
                    c.concurrency,
                )
            })
            .await;
        let client = match built {
            Ok(c) => c,
            Err(e) => return self.fail(format!("cannot build the HTTP client: {e}")),
        };
        while let Err(wait_ms) = self.deps.acquire_call() {
            bump(&self.counters.rate_limited);
            tokio::time::sleep(Duration::from_millis(wait_ms.min(60_000))).await;
        }
        let Some(breaker_permit) = self.deps.breaker_acquire() else {
            bump(&self.counters.breaker_rejected);
            *lock(&self.last_error) = Some("circuit breaker is open".into());
            return Err(false);
        };
        let sent = client
            .send(&req, &|| bump(&self.counters.provider_calls))
            .await;
        drop(permit);
        let body = match sent {
            Ok(b) => {
                self.deps.breaker_record(breaker_permit, true);
                b
            }
            Err(e) => {
                self.deps.breaker_record(breaker_permit, false);
                return self.fail(e.to_string());
            }
        };
        let parsed = extract_content(self.cfg.provider, &body).and_then(|c| parse_advice(&c));
        drop(body);
        match parsed {
            Ok(map) => match finalize(map, fp, self.cfg.provider) {
                Some(advice) => {
                    bump(&self.counters.succeeded);
                    Ok(advice)
                }
                None => self.fail("advice is larger than 64 KB".into()),
            },
            Err(e) => self.fail(e.to_string()),
        }
    }
}

/// The advice document: the model's object plus `fingerprint`, `source` and `createdAt`
/// (ms since the epoch). `None` when it exceeds [`MAX_ADVICE_BYTES`].
fn finalize(mut map: Map<String, Value>, fp: u64, provider: Provider) -> Option<Arc<str>> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    map.insert(
        "fingerprint".into(),
        Value::String(crate::core::fingerprint::to_hex(fp)),
    );
    map.insert("source".into(), Value::String(provider.source().into()));
    map.insert("createdAt".into(), Value::from(now));
    let text = Value::Object(map).to_string();
    (text.len() <= MAX_ADVICE_BYTES).then(|| Arc::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::monotonic;
    use std::sync::mpsc;

    type Delivery = (u64, Option<Arc<str>>);

    struct Chan(Mutex<mpsc::Sender<Delivery>>);

    impl Notifier for Chan {
        fn deliver(&self, fp: u64, advice: Option<Arc<str>>) {
            let _ = lock(&self.0).send((fp, advice));
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime")
    }

    fn pipeline(
        cfg: AiConfig,
        rt: &tokio::runtime::Runtime,
    ) -> (Pipeline, mpsc::Receiver<Delivery>) {
        let (tx, rx) = mpsc::channel();
        let deps = Deps::new(&cfg, monotonic()).expect("deps");
        let p = Pipeline::new(
            cfg,
            deps,
            Box::new(Chan(Mutex::new(tx))),
            rt.handle().clone(),
        );
        (p, rx)
    }

    fn err(message: &str) -> ErrorParts<'_> {
        ErrorParts {
            name: "Error",
            message,
            ..ErrorParts::default()
        }
    }

    #[test]
    fn offline_answers_at_once_and_caches() {
        let rt = runtime();
        let (p, _rx) = pipeline(AiConfig::default(), &rt);
        let (fp, first) = p.submit(&err("connect ECONNREFUSED 127.0.0.1:6379"), String::new);
        let Submitted::Ready(advice) = first else {
            panic!("expected offline advice, got {first:?}");
        };
        let v: Value = serde_json::from_str(&advice).expect("json");
        assert_eq!(v["source"], "offline");
        assert_eq!(v["category"], "ECONNREFUSED");
        assert_eq!(v["fingerprint"], crate::core::fingerprint::to_hex(fp));
        let (fp2, second) = p.submit(&err("connect ECONNREFUSED 127.0.0.1:6380"), String::new);
        assert_eq!(fp, fp2);
        assert_eq!(second, Submitted::Cached(advice.clone()));
        assert_eq!(p.get(fp), Some(advice));
        p.clear_cache();
        assert_eq!(p.get(fp), None);
        p.shutdown();
        assert_eq!(p.submit(&err("x"), String::new).1, Submitted::Closed);
    }

    #[test]
    fn deduplicates_bounds_and_cancels() {
        // A server that accepts connections and never answers keeps analyses in flight.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        // Hold the first connection open without answering. Shutdown may cancel the
        // analyses before any connection is made, so accept gives up after 2 s instead
        // of blocking the join below forever.
        listener.set_nonblocking(true).expect("nonblocking");
        let held = std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + Duration::from_secs(2);
            let mut conns = Vec::new();
            while conns.is_empty() && std::time::Instant::now() < deadline {
                match listener.accept() {
                    Ok((c, _)) => conns.push(c),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            std::thread::sleep(Duration::from_millis(500));
        });
        let rt = runtime();
        let cfg = AiConfig {
            provider: Provider::OpenAi,
            api_key: "k".into(),
            url: format!("http://{addr}/v1/chat/completions"),
            model: "gpt-4o".into(),
            concurrency: 1,
            queue_limit: 2,
            ..AiConfig::default()
        };
        let (p, rx) = pipeline(cfg, &rt);
        assert_eq!(p.submit(&err("one"), String::new).1, Submitted::Scheduled);
        assert_eq!(p.submit(&err("one"), String::new).1, Submitted::Joined);
        assert_eq!(p.submit(&err("two"), String::new).1, Submitted::Scheduled);
        assert_eq!(p.submit(&err("three"), String::new).1, Submitted::Scheduled);
        assert_eq!(p.submit(&err("four"), String::new).1, Submitted::Rejected);
        let stats: Value = serde_json::from_str(&p.stats_json()).expect("stats");
        assert_eq!(stats["deduplicated"], 1);
        assert_eq!(stats["rejected"], 1);
        assert_eq!(stats["pending"], 3);
        p.shutdown();
        let mut stats = Value::Null;
        for _ in 0..200 {
            stats = serde_json::from_str(&p.stats_json()).expect("stats");
            if stats["pending"] == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(stats["pending"], 0);
        assert_eq!(stats["cancelled"], 3);
        assert!(
            rx.try_recv().is_err(),
            "nothing is delivered after shutdown"
        );
        let _ = held.join();
    }

    #[test]
    fn limits_scale_down_and_back() {
        let rt = runtime();
        let cfg = AiConfig {
            cache_limit: 8,
            queue_limit: 100,
            ..AiConfig::default()
        };
        let (p, _rx) = pipeline(cfg, &rt);
        for word in [
            "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
        ] {
            p.submit(&err(&format!("cannot reach {word}")), String::new);
        }
        let stats =
            |p: &Pipeline| -> Value { serde_json::from_str(&p.stats_json()).expect("stats") };
        assert_eq!(stats(&p)["cacheSize"], 8);
        p.set_limit_scale(0.25, 0.5);
        let s = stats(&p);
        assert_eq!(s["cacheLimit"], 2);
        assert_eq!(s["cacheSize"], 2);
        assert_eq!(s["queueLimit"], 50);
        assert_eq!(s["configuredCacheLimit"], 8);
        assert_eq!(s["configuredQueueLimit"], 100);
        p.set_limit_scale(1.0, 1.0);
        let s = stats(&p);
        assert_eq!(s["cacheLimit"], 8);
        assert_eq!(s["queueLimit"], 100);
        p.set_limit_scale(0.0, 0.0);
        assert_eq!(
            stats(&p)["cacheLimit"],
            1,
            "an enabled cache keeps one entry"
        );
        assert_eq!(p.purge_expired(), 0);
    }

    #[test]
    fn prefixes_count_utf16_units_like_js() {
        assert_eq!(prefix_utf16("abc", 2), "ab");
        assert_eq!(prefix_utf16("abc", 3), "abc");
        // 'é' is one unit (two bytes), '😀' two units (four bytes).
        assert_eq!(prefix_utf16("éééé", 3), "ééé");
        assert_eq!(prefix_utf16("a😀b", 3), "a😀");
        assert_eq!(prefix_utf16("a😀b", 2), "a");
        assert_eq!(prefix_utf16("ab😀", 2), "ab");
    }

    #[test]
    fn long_input_is_fingerprinted_and_kept_as_js_slices_it() {
        let rt = runtime();
        let (p, _rx) = pipeline(AiConfig::default(), &rt);
        let frames = "\n    at f (/srv/a.js:1:1)".repeat(1000);
        let stack = format!("Error: boom{frames}");
        let message = "m".repeat(10_000);
        let long = ErrorParts {
            name: "Error",
            code: "",
            message: &message,
            stack: &stack,
        };
        let sliced = ErrorParts {
            message: &message[..MAX_MESSAGE_UNITS],
            stack: &stack[..MAX_STACK_UNITS],
            ..long
        };
        assert_eq!(
            p.submit(&long, String::new).0,
            p.submit(&sliced, String::new).0
        );
    }

    #[test]
    fn bounded_parts_keep_what_js_keeps() {
        let message = "é".repeat(10_000);
        let stack = "s".repeat(20_000);
        let parts = ErrorParts {
            name: "Error",
            code: "E",
            message: &message,
            stack: &stack,
        }
        .bounded();
        assert_eq!(parts.message.chars().count(), MAX_MESSAGE_UNITS);
        assert_eq!(parts.stack.len(), MAX_STACK_UNITS);
        assert_eq!((parts.name, parts.code), ("Error", "E"));
        let short = ErrorParts {
            message: "m",
            stack: "s",
            ..parts
        }
        .bounded();
        assert_eq!((short.message, short.stack), ("m", "s"));
    }

    #[test]
    fn advice_documents_are_bounded() {
        let mut m = Map::new();
        m.insert("advice".into(), Value::String("x".repeat(MAX_ADVICE_BYTES)));
        assert!(finalize(m, 1, Provider::OpenAi).is_none());
    }
}

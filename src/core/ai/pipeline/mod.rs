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
//!
//! This module holds `submit` and the bounds; `input` the error as taken and cut to what JS
//! slices, `worker` one scheduled analysis and how it settles, `stats` the counters and
//! [`Pipeline::stats_json`].

mod input;
mod stats;
mod worker;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{watch, OnceCell, Semaphore};

use super::advisor;
use super::client::HttpClient;
use super::config::{AiConfig, Provider};
use super::deps::Deps;
use crate::core::fingerprint::fingerprint;
use input::ErrorInput;
pub use input::{ErrorParts, MAX_MESSAGE_UNITS, MAX_STACK_UNITS};
use stats::{bump, Counters};
pub use worker::MAX_ADVICE_BYTES;
use worker::{finalize, Settle};

/// Cache slots examined per lock hold by [`Pipeline::purge_expired`].
const PURGE_STEP: usize = 64;

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
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::monotonic;
    use serde_json::Value;
    use std::sync::mpsc;
    use std::time::Duration;

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
}

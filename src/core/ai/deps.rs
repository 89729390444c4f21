//! The interfaces through which the pipeline reaches the shared building blocks (advice
//! cache, provider-call limiter, circuit breaker, redaction), and the production wiring.
//!
//! The pipeline depends only on these traits, so tests can substitute fakes and the wiring
//! below is the one place that knows which concrete module backs each of them.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use crate::core::clock::SharedClock;

/// Advice cache keyed by fingerprint; values are the final advice JSON text.
pub trait AdviceCache: Send + Sync {
    fn get(&self, fp: u64) -> Option<Arc<str>>;
    fn insert(&self, fp: u64, advice: Arc<str>);
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn clear(&self);
    /// Entries dropped to make room or because they expired.
    fn evictions(&self) -> u64;
}

/// Admission of provider calls.
pub trait CallGate: Send + Sync {
    /// `Ok(())` to call now, `Err(ms)` to wait about that long and ask again.
    fn try_acquire(&self) -> Result<(), u64>;
}

/// Circuit breaker around the provider.
pub trait Breaker: Send + Sync {
    /// Whether a call may go out now (in half-open, only the single trial call may).
    fn try_acquire(&self) -> bool;
    fn on_success(&self);
    fn on_failure(&self);
    /// `"CLOSED"`, `"OPEN"` or `"HALF_OPEN"`.
    fn state(&self) -> &'static str;
}

/// Removes secrets from text before it leaves the process.
pub trait Redactor: Send + Sync {
    fn redact<'a>(&self, text: &'a str) -> Cow<'a, str>;
}

/// The production set of building blocks for one pipeline.
pub struct Deps {
    pub cache: Box<dyn AdviceCache>,
    pub gate: Option<Box<dyn CallGate>>,
    pub breaker: Box<dyn Breaker>,
    pub redactor: Box<dyn Redactor>,
}

impl Deps {
    /// The production wiring for a configuration.
    pub fn production(cfg: &super::config::AiConfig, clock: SharedClock) -> Self {
        Self {
            cache: Box::new(LruAdviceCache::new(
                cfg.cache_limit,
                cfg.cache_ttl_ms,
                clock.clone(),
            )),
            gate: cfg.rate_limit.map(|(burst, per_sec)| {
                Box::new(TokenBucket::new(burst, per_sec, clock.clone())) as _
            }),
            breaker: Box::new(CountBreaker::new(
                cfg.breaker_threshold,
                cfg.breaker_reset_ms,
                clock,
            )),
            redactor: Box::new(PatternRedactor::new()),
        }
    }
}

/// Bounded LRU with a time to live; capacity 0 stores nothing.
pub struct LruAdviceCache {
    inner: Mutex<LruInner>,
    ttl_ms: u64,
    clock: SharedClock,
}

struct LruInner {
    map: Option<lru::LruCache<u64, (Arc<str>, u64)>>,
    evictions: u64,
}

impl LruAdviceCache {
    pub fn new(capacity: usize, ttl_ms: u64, clock: SharedClock) -> Self {
        Self {
            inner: Mutex::new(LruInner {
                map: std::num::NonZeroUsize::new(capacity).map(lru::LruCache::new),
                evictions: 0,
            }),
            ttl_ms,
            clock,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl AdviceCache for LruAdviceCache {
    fn get(&self, fp: u64) -> Option<Arc<str>> {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        let map = g.map.as_mut()?;
        match map.get(&fp) {
            Some((v, exp)) if *exp > now => Some(v.clone()),
            Some(_) => {
                map.pop(&fp);
                g.evictions += 1;
                None
            }
            None => None,
        }
    }

    fn insert(&self, fp: u64, advice: Arc<str>) {
        let exp = self.clock.now_ms().saturating_add(self.ttl_ms);
        let mut g = self.lock();
        let Some(map) = g.map.as_mut() else { return };
        if let Some((old, _)) = map.push(fp, (advice, exp)) {
            if old != fp {
                g.evictions += 1;
            }
        }
    }

    fn len(&self) -> usize {
        self.lock().map.as_ref().map_or(0, lru::LruCache::len)
    }

    fn clear(&self) {
        if let Some(m) = self.lock().map.as_mut() {
            m.clear();
        }
    }

    fn evictions(&self) -> u64 {
        self.lock().evictions
    }
}

/// Token bucket: `burst` calls at once, refilled at `per_sec`.
pub struct TokenBucket {
    state: Mutex<(f64, u64)>,
    burst: f64,
    per_ms: f64,
    clock: SharedClock,
}

impl TokenBucket {
    pub fn new(burst: u32, per_sec: f64, clock: SharedClock) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            state: Mutex::new((burst, clock.now_ms())),
            burst,
            per_ms: per_sec.max(1e-6) / 1000.0,
            clock,
        }
    }
}

impl CallGate for TokenBucket {
    fn try_acquire(&self) -> Result<(), u64> {
        let now = self.clock.now_ms();
        let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = *g;
        let tokens = (tokens + now.saturating_sub(last) as f64 * self.per_ms).min(self.burst);
        if tokens >= 1.0 {
            *g = (tokens - 1.0, now);
            Ok(())
        } else {
            *g = (tokens, now);
            Err(((1.0 - tokens) / self.per_ms).ceil() as u64)
        }
    }
}

/// Opens after `threshold` consecutive failures; after `reset_ms` lets one trial call through.
pub struct CountBreaker {
    state: Mutex<BreakerState>,
    threshold: u32,
    reset_ms: u64,
    clock: SharedClock,
}

#[derive(Clone, Copy)]
enum BreakerState {
    Closed { failures: u32 },
    Open { until: u64 },
    HalfOpen { trial_out: bool },
}

impl CountBreaker {
    pub fn new(threshold: u32, reset_ms: u64, clock: SharedClock) -> Self {
        Self {
            state: Mutex::new(BreakerState::Closed { failures: 0 }),
            threshold: threshold.max(1),
            reset_ms,
            clock,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BreakerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Breaker for CountBreaker {
    fn try_acquire(&self) -> bool {
        let mut s = self.lock();
        match *s {
            BreakerState::Closed { .. } => true,
            BreakerState::Open { until } if self.clock.now_ms() >= until => {
                *s = BreakerState::HalfOpen { trial_out: true };
                true
            }
            BreakerState::Open { .. } => false,
            BreakerState::HalfOpen { trial_out } => {
                *s = BreakerState::HalfOpen { trial_out: true };
                !trial_out
            }
        }
    }

    fn on_success(&self) {
        *self.lock() = BreakerState::Closed { failures: 0 };
    }

    fn on_failure(&self) {
        let mut s = self.lock();
        let failures = match *s {
            BreakerState::Closed { failures } => failures + 1,
            _ => self.threshold,
        };
        *s = if failures >= self.threshold {
            BreakerState::Open {
                until: self.clock.now_ms().saturating_add(self.reset_ms),
            }
        } else {
            BreakerState::Closed { failures }
        };
    }

    fn state(&self) -> &'static str {
        match *self.lock() {
            BreakerState::Closed { .. } => "CLOSED",
            BreakerState::Open { .. } => "OPEN",
            BreakerState::HalfOpen { .. } => "HALF_OPEN",
        }
    }
}

/// Redaction of credentials, e-mail addresses and card-like numbers.
pub struct PatternRedactor {
    rules: Vec<(regex::Regex, &'static str)>,
}

impl PatternRedactor {
    pub fn new() -> Self {
        const RULES: [(&str, &str); 6] = [
            (
                r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
                "[EMAIL-REDACTED]",
            ),
            (
                r"(?i)((?:password|passwd|pwd|token|secret|api[_-]?key|authorization)\s*[:=]\s*)[^\s,;}&]+",
                "${1}[REDACTED]",
            ),
            (r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+", "${1}[REDACTED]"),
            (r"\bsk-[A-Za-z0-9_-]{8,}", "[REDACTED]"),
            (
                r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+",
                "[REDACTED]",
            ),
            (r"\b(?:\d{4}[ -]?){3}\d{4}\b", "[CARD-REDACTED]"),
        ];
        Self {
            rules: RULES
                .iter()
                .filter_map(|(p, r)| regex::Regex::new(p).ok().map(|re| (re, *r)))
                .collect(),
        }
    }
}

impl Default for PatternRedactor {
    fn default() -> Self {
        Self::new()
    }
}

impl Redactor for PatternRedactor {
    fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for (re, rep) in &self.rules {
            if let Cow::Owned(s) = re.replace_all(&out, *rep) {
                out = Cow::Owned(s);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::FakeClock;

    #[test]
    fn cache_evicts_lru_and_expires() {
        let clock = Arc::new(FakeClock::new(0));
        let c = LruAdviceCache::new(2, 100, clock.clone());
        c.insert(1, "a".into());
        c.insert(2, "b".into());
        assert!(c.get(1).is_some());
        c.insert(3, "c".into());
        assert!(c.get(2).is_none());
        assert_eq!(c.evictions(), 1);
        clock.advance(100);
        assert!(c.get(1).is_none());
        let off = LruAdviceCache::new(0, 100, clock);
        off.insert(1, "a".into());
        assert!(off.get(1).is_none());
        assert!(off.is_empty());
    }

    #[test]
    fn bucket_refills() {
        let clock = Arc::new(FakeClock::new(0));
        let b = TokenBucket::new(2, 1.0, clock.clone());
        assert!(b.try_acquire().is_ok());
        assert!(b.try_acquire().is_ok());
        assert_eq!(b.try_acquire(), Err(1000));
        clock.advance(1000);
        assert!(b.try_acquire().is_ok());
    }

    #[test]
    fn breaker_opens_half_opens_and_closes() {
        let clock = Arc::new(FakeClock::new(0));
        let b = CountBreaker::new(2, 50, clock.clone());
        b.on_failure();
        assert_eq!(b.state(), "CLOSED");
        b.on_failure();
        assert_eq!(b.state(), "OPEN");
        assert!(!b.try_acquire());
        clock.advance(50);
        assert!(b.try_acquire());
        assert!(!b.try_acquire(), "one trial call only");
        b.on_failure();
        assert_eq!(b.state(), "OPEN");
        clock.advance(50);
        assert!(b.try_acquire());
        b.on_success();
        assert_eq!(b.state(), "CLOSED");
    }

    #[test]
    fn redactor_removes_secrets() {
        let r = PatternRedactor::new();
        let s = r.redact("password=hunter2 mail a@b.co Bearer abc.def sk-proj1234567890 card 4111 1111 1111 1111");
        assert_eq!(
            s,
            "password=[REDACTED] mail [EMAIL-REDACTED] Bearer [REDACTED] [REDACTED] card [CARD-REDACTED]"
        );
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
    }
}

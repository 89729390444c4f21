//! The shared building blocks one pipeline uses, reached from Rust with no boundary
//! crossing: the advice cache (`core::cache`), the provider-call limiter
//! (`core::rate_limit`), the circuit breaker (`core::breaker`) and redaction
//! (`core::sanitize`). This is the only place that knows their APIs; the pipeline calls
//! the small methods below.

use std::borrow::Cow;
use std::sync::Arc;

use super::config::AiConfig;
use crate::core::breaker::{BreakerOptions, CircuitBreaker, Outcome, Permit, State};
use crate::core::cache::{CacheOptions, SyncLruCache};
use crate::core::clock::SharedClock;
use crate::core::rate_limit::{RateLimitConfig, RateLimiter};
use crate::core::redis::{ConnOptions, SharedCache};

/// Key prefix of shared advice (and of its in-flight markers) in Redis.
const SHARED_PREFIX: &str = "qerrors:advice:";
/// Budget of one shared-cache command; past it the pipeline goes on locally.
const SHARED_TIMEOUT_MS: u64 = 500;
/// While Redis is down, how often one shared-cache command probes it.
const SHARED_PROBE_MS: u64 = 1000;

/// Fingerprints whose analysis failed recently, remembered so a storm of one error the
/// provider cannot answer does not become a storm of provider calls.
const MAX_FAILED: usize = 1024;

/// The single limiter key: one bucket for all calls to the configured provider.
const PROVIDER_KEY: &[u8] = b"provider";
/// The limiter counts `per_sec * 1000` calls per 1000 s, so fractional rates are exact.
const RATE_WINDOW_MS: u64 = 1_000_000;

/// Cache, limiter, breaker and redaction for one pipeline.
pub struct Deps {
    /// `None` when `QERRORS_CACHE_LIMIT` is 0.
    cache: Option<SyncLruCache<u64, Arc<str>>>,
    /// `None` when rate limiting is off.
    limiter: Option<RateLimiter>,
    /// Recently failed fingerprints; `None` when `failure_ttl_ms` is 0.
    failed: Option<SyncLruCache<u64, ()>>,
    breaker: CircuitBreaker,
    /// Advice shared with other processes through Redis; `None` without a Redis URL.
    shared: Option<SharedCache>,
}

impl Deps {
    /// The building blocks for a configuration.
    pub fn new(cfg: &AiConfig, clock: SharedClock) -> Result<Self, String> {
        let cache = match cfg.cache_limit {
            0 => None,
            max => Some(
                SyncLruCache::new(
                    CacheOptions {
                        max,
                        ttl_ms: cfg.cache_ttl_ms,
                        ..CacheOptions::default()
                    },
                    clock.clone(),
                )
                .map_err(|e| e.to_string())?,
            ),
        };
        let limiter = match cfg.rate_limit {
            None => None,
            Some((burst, per_sec)) => {
                let limit = (per_sec * 1000.0).round().clamp(1.0, 10_000_000.0) as u64;
                let config = RateLimitConfig {
                    burst: u64::from(burst).clamp(1, 10_000_000),
                    max_keys: 1,
                    ..RateLimitConfig::new(limit, RATE_WINDOW_MS)
                };
                Some(RateLimiter::new(config, clock.clone()).map_err(|e| e.to_string())?)
            }
        };
        let failed = match cfg.failure_ttl_ms {
            0 => None,
            ttl_ms => Some(
                SyncLruCache::new(
                    CacheOptions {
                        max: MAX_FAILED,
                        ttl_ms,
                        ..CacheOptions::default()
                    },
                    clock.clone(),
                )
                .map_err(|e| e.to_string())?,
            ),
        };
        let breaker = CircuitBreaker::new(
            BreakerOptions {
                reset_timeout_ms: cfg.breaker_reset_ms,
                // Consecutive failures only: a provider is either reachable or not, and the
                // pipeline's call volume is too low for a meaningful error percentage.
                error_threshold_percentage: None,
                failure_threshold: cfg.breaker_threshold,
                half_open_max_probes: 1,
                ..BreakerOptions::default()
            },
            clock.clone(),
        )?;
        let shared = match &cfg.redis_url {
            None => None,
            Some(url) => Some(
                SharedCache::new(
                    &ConnOptions {
                        url: url.clone(),
                        timeout_ms: SHARED_TIMEOUT_MS,
                        probe_interval_ms: SHARED_PROBE_MS,
                        cluster: false,
                    },
                    SHARED_PREFIX,
                    clock.clone(),
                )
                .map_err(|e| format!("invalid Redis URL for the shared advice cache: {e}"))?,
            ),
        };
        Ok(Self {
            cache,
            limiter,
            failed,
            breaker,
            shared,
        })
    }

    /// The advice cache shared through Redis, when configured.
    pub fn shared(&self) -> Option<&SharedCache> {
        self.shared.as_ref()
    }

    pub fn cache_get(&self, fp: u64) -> Option<Arc<str>> {
        self.cache.as_ref()?.get(&fp)
    }

    pub fn cache_insert(&self, fp: u64, advice: Arc<str>) {
        if let Some(c) = &self.cache {
            let size = advice.len() as u64;
            c.set(fp, advice, size, None);
        }
    }

    pub fn cache_len(&self) -> usize {
        self.cache.as_ref().map_or(0, SyncLruCache::len)
    }

    pub fn cache_clear(&self) {
        if let Some(c) = &self.cache {
            c.clear();
        }
    }

    /// Entries pushed out by the bound or expired.
    pub fn cache_evictions(&self) -> u64 {
        self.cache.as_ref().map_or(0, |c| {
            let s = c.stats();
            s.evictions + s.expirations
        })
    }

    /// Sets the advice cache's entry bound (at least 1); returns how many entries it
    /// evicted. A cache that is off stays off.
    pub fn cache_set_max(&self, max: usize) -> usize {
        self.cache.as_ref().map_or(0, |c| c.set_max(max))
    }

    /// Removes expired advice and failure entries, examining `step` slots per lock hold so
    /// a large cache never blocks the analyses that share it; returns how many it removed.
    pub fn purge_expired(&self, step: usize) -> usize {
        let step = step.max(1);
        let mut removed = 0;
        if let Some(c) = &self.cache {
            for _ in 0..c.slot_count().div_ceil(step) {
                removed += c.purge_steps(step);
            }
        }
        if let Some(f) = &self.failed {
            for _ in 0..f.slot_count().div_ceil(step) {
                removed += f.purge_steps(step);
            }
        }
        removed
    }

    /// Remembers that the analysis of `fp` failed.
    pub fn mark_failed(&self, fp: u64) {
        if let Some(f) = &self.failed {
            f.set(fp, (), 1, None);
        }
    }

    /// Whether the analysis of `fp` failed within the failure TTL.
    pub fn failed_recently(&self, fp: u64) -> bool {
        self.failed.as_ref().is_some_and(|f| f.contains(&fp))
    }

    /// Whether the breaker is open now (read without taking a permit).
    pub fn breaker_open(&self) -> bool {
        self.breaker.state() == State::Open
    }

    /// `Ok(())` to call the provider now, `Err(ms)` to wait about that long first.
    pub fn acquire_call(&self) -> Result<(), u64> {
        match &self.limiter {
            Some(l) if l.check(PROVIDER_KEY) < 0 => Err(l.retry_after_ms(PROVIDER_KEY).max(1)),
            _ => Ok(()),
        }
    }

    /// A breaker permit, or `None` while the breaker is open (or its one probe is out).
    pub fn breaker_acquire(&self) -> Option<Permit> {
        self.breaker.try_acquire()
    }

    pub fn breaker_record(&self, permit: Permit, ok: bool) {
        let outcome = if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        self.breaker.record(permit, outcome);
    }

    /// `"CLOSED"`, `"OPEN"` or `"HALF_OPEN"` (the spec's `CircuitState` values).
    pub fn breaker_state(&self) -> &'static str {
        match self.breaker.state() {
            State::Closed => "CLOSED",
            State::Open => "OPEN",
            State::HalfOpen => "HALF_OPEN",
        }
    }

    /// Removes secrets with the same rules as the JS `sanitizeMessage`.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        crate::core::sanitize::redact(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::FakeClock;

    fn cfg() -> AiConfig {
        AiConfig {
            cache_limit: 2,
            cache_ttl_ms: 100,
            rate_limit: Some((2, 1.0)),
            breaker_threshold: 2,
            breaker_reset_ms: 50,
            ..AiConfig::default()
        }
    }

    #[test]
    fn cache_is_bounded_expires_and_can_be_off() {
        let clock = Arc::new(FakeClock::new(0));
        let d = Deps::new(&cfg(), clock.clone()).expect("deps");
        d.cache_insert(1, "a".into());
        d.cache_insert(2, "b".into());
        assert!(d.cache_get(1).is_some());
        d.cache_insert(3, "c".into());
        assert!(d.cache_get(2).is_none());
        clock.advance(100);
        assert!(d.cache_get(1).is_none());
        assert!(d.cache_evictions() >= 2);
        let off = Deps::new(
            &AiConfig {
                cache_limit: 0,
                ..cfg()
            },
            clock,
        )
        .expect("deps");
        off.cache_insert(1, "a".into());
        assert!(off.cache_get(1).is_none());
        assert_eq!(off.cache_len(), 0);
    }

    #[test]
    fn cache_bound_shrinks_and_restores() {
        let clock = Arc::new(FakeClock::new(0));
        let d = Deps::new(
            &AiConfig {
                cache_limit: 8,
                ..cfg()
            },
            clock,
        )
        .expect("deps");
        for fp in 0..8 {
            d.cache_insert(fp, "a".into());
        }
        assert_eq!(d.cache_set_max(2), 6);
        assert_eq!(d.cache_len(), 2);
        assert!(d.cache_get(7).is_some() && d.cache_get(6).is_some());
        d.cache_insert(8, "b".into());
        assert_eq!(d.cache_len(), 2, "the smaller bound holds for new entries");
        assert_eq!(d.cache_set_max(8), 0);
        for fp in 10..20 {
            d.cache_insert(fp, "c".into());
        }
        assert_eq!(d.cache_len(), 8);
        assert_eq!(
            d.cache_set_max(0),
            7,
            "the bound never drops below one entry"
        );
    }

    #[test]
    fn purge_removes_expired_entries_in_steps() {
        let clock = Arc::new(FakeClock::new(0));
        let d = Deps::new(
            &AiConfig {
                cache_limit: 100,
                failure_ttl_ms: 100,
                ..cfg()
            },
            clock.clone(),
        )
        .expect("deps");
        for fp in 0..50 {
            d.cache_insert(fp, "a".into());
        }
        d.mark_failed(1);
        assert_eq!(d.purge_expired(7), 0, "nothing has expired yet");
        clock.advance(100);
        for fp in 50..60 {
            d.cache_insert(fp, "b".into());
        }
        let len = d.cache_len();
        let removed = d.purge_expired(7);
        assert_eq!(d.cache_len(), 10, "only the fresh entries stay");
        assert_eq!(
            removed,
            len - 10 + 1,
            "expired advice and the expired failure"
        );
        assert!(!d.failed_recently(1));
    }

    #[test]
    fn limiter_allows_a_burst_then_asks_to_wait() {
        let clock = Arc::new(FakeClock::new(0));
        let d = Deps::new(&cfg(), clock.clone()).expect("deps");
        assert!(d.acquire_call().is_ok());
        assert!(d.acquire_call().is_ok());
        assert_eq!(d.acquire_call(), Err(1000));
        clock.advance(1000);
        assert!(d.acquire_call().is_ok());
    }

    #[test]
    fn breaker_opens_probes_and_closes() {
        let clock = Arc::new(FakeClock::new(0));
        let d = Deps::new(&cfg(), clock.clone()).expect("deps");
        for _ in 0..2 {
            let p = d.breaker_acquire().expect("closed");
            d.breaker_record(p, false);
        }
        assert_eq!(d.breaker_state(), "OPEN");
        assert!(d.breaker_acquire().is_none());
        clock.advance(50);
        let probe = d.breaker_acquire().expect("probe");
        assert!(d.breaker_acquire().is_none(), "one probe at a time");
        d.breaker_record(probe, true);
        assert_eq!(d.breaker_state(), "CLOSED");
    }

    #[test]
    fn failures_are_remembered_for_their_ttl() {
        let clock = Arc::new(FakeClock::new(0));
        let d = Deps::new(
            &AiConfig {
                failure_ttl_ms: 100,
                ..cfg()
            },
            clock.clone(),
        )
        .expect("deps");
        assert!(!d.failed_recently(7));
        d.mark_failed(7);
        assert!(d.failed_recently(7));
        clock.advance(100);
        assert!(!d.failed_recently(7));
        let off = Deps::new(
            &AiConfig {
                failure_ttl_ms: 0,
                ..cfg()
            },
            clock,
        )
        .expect("deps");
        off.mark_failed(7);
        assert!(!off.failed_recently(7));
    }

    #[test]
    fn redaction_uses_the_shared_rules() {
        let d = Deps::new(&cfg(), Arc::new(FakeClock::new(0))).expect("deps");
        let out = d.redact("password=hunter2 mail bob@example.com");
        assert!(!out.contains("hunter2") && !out.contains("bob@example.com"));
    }
}

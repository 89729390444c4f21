//! The pipeline's counters and gauges, and [`Pipeline::stats_json`].

use std::sync::atomic::{AtomicU64, Ordering};

use super::{lock, Pipeline};

#[derive(Default)]
pub(super) struct Counters {
    pub(super) hits: AtomicU64,
    pub(super) misses: AtomicU64,
    pub(super) offline: AtomicU64,
    pub(super) scheduled: AtomicU64,
    pub(super) deduplicated: AtomicU64,
    pub(super) rejected: AtomicU64,
    pub(super) queued: AtomicU64,
    pub(super) running: AtomicU64,
    pub(super) provider_calls: AtomicU64,
    pub(super) rate_limited: AtomicU64,
    pub(super) breaker_rejected: AtomicU64,
    pub(super) succeeded: AtomicU64,
    pub(super) failed: AtomicU64,
    pub(super) cancelled: AtomicU64,
    pub(super) skipped_failed: AtomicU64,
    /// Advice found in the Redis-shared cache (often computed by another process).
    pub(super) shared_hits: AtomicU64,
    pub(super) purged: AtomicU64,
}

pub(super) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Decrements a gauge when dropped, so cancellation cannot leave it high.
pub(super) struct Gauge<'a>(&'a AtomicU64);

impl<'a> Gauge<'a> {
    pub(super) fn up(c: &'a AtomicU64) -> Self {
        c.fetch_add(1, Ordering::Relaxed);
        Self(c)
    }
}

impl Drop for Gauge<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pipeline {
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

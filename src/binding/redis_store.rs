//! napi glue for the Redis store: a class whose async methods return Promises.
//!
//! Every check is a network round trip (tens of microseconds), so the ~1 µs of napi-rs
//! glue per call does not matter here and the coarse `#[napi]` API is used throughout.
//! Promises never reject because Redis is unavailable: the insurance policy answers and
//! the availability change travels back as `event`, a log line the JS facade prints.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use napi::bindgen_prelude::PromiseRaw;
use napi::{Env, Result};
use napi_derive::napi;

use crate::binding::errors;
use crate::core::clock;
use crate::core::rate_limit::{RateLimitConfig, RateLimiter, MAX_LIMIT, MAX_WINDOW_MS};
use crate::core::redis_store::{
    ConnOptions, Failure, HealthEvent, Insurance, LimiterOptions, LocalLimiter, Quota,
    RedisLimiter, Source,
};

#[napi(object)]
pub struct NativeRedisStoreOptions {
    pub url: String,
    pub prefix: String,
    pub timeout_ms: f64,
    pub probe_interval_ms: f64,
    /// `'local' | 'open' | 'closed'`.
    pub insurance: String,
}

/// One decision. `event` is a log line when this call changed Redis availability.
#[napi(object)]
pub struct NativeRedisCheck {
    pub allowed: bool,
    pub remaining: f64,
    pub retry_after_ms: f64,
    pub reset_ms: f64,
    /// Denied hits counted by `increment` and not given back yet.
    pub denied_hits: f64,
    /// True when the insurance policy answered instead of Redis.
    pub insured: bool,
    pub event: Option<String>,
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
    #[napi(constructor)]
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
        let opts = LimiterOptions {
            conn: ConnOptions {
                url: options.url,
                timeout_ms: options.timeout_ms as u64,
                probe_interval_ms: options.probe_interval_ms as u64,
            },
            prefix: options.prefix,
            insurance,
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
    #[napi]
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

    /// Consumes `cost` units of `key` (0 reads, negative gives back); `count_denied`
    /// remembers a denied hit for the Store interface. Never rejects for Redis trouble;
    /// rejects only when called before `setQuota`.
    #[napi(ts_return_type = "Promise<NativeRedisCheck>")]
    pub fn check<'env>(
        &self,
        env: &'env Env,
        key: String,
        cost: i64,
        count_denied: bool,
    ) -> Result<PromiseRaw<'env, NativeRedisCheck>> {
        let inner = Arc::clone(&self.inner);
        env.spawn_future(async move {
            let Some(o) = inner.check(&key, cost, count_denied).await else {
                // The JS facade sets the quota before its first check.
                return Err(napi::Error::from_reason(
                    "set windowMs and limit before checking",
                ));
            };
            Ok(NativeRedisCheck {
                allowed: o.decision.allowed,
                remaining: o.decision.remaining as f64,
                retry_after_ms: o.decision.retry_after_ms as f64,
                reset_ms: o.decision.reset_ms as f64,
                denied_hits: o.decision.denied_hits as f64,
                insured: o.source == Source::Insurance,
                event: event_line(&inner, o.event),
            })
        })
    }

    /// Deletes `key` in Redis (and in the local fallback).
    #[napi(ts_return_type = "Promise<NativeRedisReply>")]
    pub fn reset_key<'env>(
        &self,
        env: &'env Env,
        key: String,
    ) -> Result<PromiseRaw<'env, NativeRedisReply>> {
        let inner = Arc::clone(&self.inner);
        env.spawn_future(async move {
            let (r, ev) = inner.reset_key(&key).await;
            Ok(reply(&inner, r.map(|()| 0), ev))
        })
    }

    /// Deletes every key under the prefix.
    #[napi(ts_return_type = "Promise<NativeRedisReply>")]
    pub fn reset_all<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, NativeRedisReply>> {
        let inner = Arc::clone(&self.inner);
        env.spawn_future(async move {
            let (r, ev) = inner.reset_all().await;
            Ok(reply(&inner, r, ev))
        })
    }

    #[napi]
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

    /// Drops the connection; later calls answer with `ERR_QERRORS_REDIS_CLOSED`.
    #[napi]
    pub fn close(&self) {
        self.inner.conn().close();
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

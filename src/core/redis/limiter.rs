//! The distributed GCRA limiter and its fallback while Redis is unavailable.

use super::*;

/// What to do when Redis cannot answer a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insurance {
    /// Decide with the in-process limiter (each process then limits on its own).
    Local,
    /// Allow the request.
    Open,
    /// Deny the request.
    Closed,
}

impl Insurance {
    /// Parses `'local' | 'open' | 'closed'`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "local" => Some(Self::Local),
            "open" => Some(Self::Open),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }
}

/// One limiter decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Units still available right now.
    pub remaining: u64,
    /// When denied: milliseconds until this cost would be allowed; 0 when allowed.
    pub retry_after_ms: u64,
    /// Milliseconds until the key is back to a full, untouched limit.
    pub reset_ms: u64,
    /// Denied hits counted for a Store and not given back yet.
    pub denied_hits: u64,
}

/// The in-process limiter used by [`Insurance::Local`] while Redis is unavailable.
pub trait LocalLimiter: Send + Sync {
    /// Consumes `cost` units of `key` (0 reads, negative gives units back).
    fn check(&self, key: &str, cost: i64) -> Decision;
    /// Forgets `key`.
    fn reset(&self, key: &str);
    /// Forgets every key.
    fn reset_all(&self);
}

impl LocalLimiter for crate::core::rate_limit::RateLimiter {
    fn check(&self, key: &str, cost: i64) -> Decision {
        let k = key.as_bytes();
        let allowed = match cost {
            c if c > 0 => self.consume(k, c as u64) >= 0,
            c if c < 0 => {
                self.reward(k, c.unsigned_abs());
                true
            }
            _ => true,
        };
        let st = self.state(k);
        // `state` answers for a cost of 1; a larger cost waits one interval per extra unit.
        let cfg = self.config();
        let extra = (cost.max(1) as u64 - 1).saturating_mul(cfg.window_ms) / cfg.limit;
        Decision {
            allowed,
            remaining: st.remaining,
            retry_after_ms: if allowed {
                0
            } else {
                st.retry_after_ms + extra
            },
            reset_ms: st.reset_ms,
            denied_hits: 0,
        }
    }

    fn reset(&self, key: &str) {
        crate::core::rate_limit::RateLimiter::reset(self, key.as_bytes());
    }

    fn reset_all(&self) {
        crate::core::rate_limit::RateLimiter::reset_all(self);
    }
}
/// Options of a [`RedisLimiter`].
#[derive(Debug, Clone)]
pub struct LimiterOptions {
    pub conn: ConnOptions,
    /// Prepended to every key.
    pub prefix: String,
    pub insurance: Insurance,
    /// Checks waiting on Redis at once; more are answered by the insurance at once.
    pub max_in_flight: usize,
}

/// Counters of a [`RedisLimiter`].
#[derive(Debug, Default)]
pub struct LimiterStats {
    pub checks: AtomicU64,
    pub redis_allowed: AtomicU64,
    pub redis_denied: AtomicU64,
    pub insurance_allowed: AtomicU64,
    pub insurance_denied: AtomicU64,
    /// Checks answered by the insurance because `max_in_flight` were already waiting.
    pub overloaded: AtomicU64,
}

/// Window and limit, settable once after construction (express-rate-limit hands them
/// to the store's `init`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub window_ms: u64,
    pub limit: u64,
}

/// A GCRA limiter whose state lives in Redis and is shared by every process using it.
pub struct RedisLimiter {
    conn: Arc<RedisConn>,
    script: Script,
    prefix: String,
    insurance: Insurance,
    quota: Mutex<Option<Quota>>,
    local: Mutex<Option<Arc<dyn LocalLimiter>>>,
    local_factory: Box<dyn Fn(Quota) -> Option<Arc<dyn LocalLimiter>> + Send + Sync>,
    pub(super) in_flight: AtomicUsize,
    max_in_flight: usize,
    pub stats: LimiterStats,
}

impl RedisLimiter {
    /// `local_factory` builds the in-process limiter for [`Insurance::Local`] once the
    /// quota is known.
    pub fn new(
        opts: LimiterOptions,
        clock: SharedClock,
        local_factory: Box<dyn Fn(Quota) -> Option<Arc<dyn LocalLimiter>> + Send + Sync>,
    ) -> Result<Self, String> {
        Ok(Self {
            conn: Arc::new(RedisConn::new(&opts.conn, clock)?),
            script: Script::new(GCRA_LUA),
            prefix: opts.prefix,
            insurance: opts.insurance,
            quota: Mutex::new(None),
            local: Mutex::new(None),
            local_factory,
            in_flight: AtomicUsize::new(0),
            max_in_flight: opts.max_in_flight.max(1),
            stats: LimiterStats::default(),
        })
    }

    pub fn conn(&self) -> &RedisConn {
        &self.conn
    }

    pub fn insurance(&self) -> Insurance {
        self.insurance
    }

    pub fn quota(&self) -> Option<Quota> {
        self.quota.lock().ok().and_then(|q| *q)
    }

    /// Sets the window and limit; a later different quota replaces it.
    pub fn set_quota(&self, quota: Quota) {
        if let Ok(mut q) = self.quota.lock() {
            if *q != Some(quota) {
                *q = Some(quota);
                if let Ok(mut local) = self.local.lock() {
                    *local = None;
                }
            }
        }
    }

    fn key(&self, key: &str) -> String {
        let mut k = String::with_capacity(self.prefix.len() + key.len());
        k.push_str(&self.prefix);
        k.push_str(key);
        k
    }

    fn local(&self, quota: Quota) -> Option<Arc<dyn LocalLimiter>> {
        let mut local = self.local.lock().ok()?;
        if local.is_none() {
            *local = (self.local_factory)(quota);
        }
        local.clone()
    }

    fn insure(&self, key: &str, cost: i64, quota: Quota) -> Decision {
        let window = quota.window_ms;
        match self.insurance {
            Insurance::Open => Decision {
                allowed: true,
                remaining: quota.limit,
                retry_after_ms: 0,
                reset_ms: 0,
                denied_hits: 0,
            },
            Insurance::Closed => Decision {
                allowed: cost <= 0,
                remaining: 0,
                retry_after_ms: if cost > 0 { window } else { 0 },
                reset_ms: window,
                denied_hits: 0,
            },
            // Without a local limiter (a quota beyond its bounds) there is nothing to
            // decide with, so it answers like 'open'.
            Insurance::Local => match self.local(quota) {
                Some(l) => l.check(key, cost),
                None => Decision {
                    allowed: true,
                    remaining: quota.limit,
                    retry_after_ms: 0,
                    reset_ms: 0,
                    denied_hits: 0,
                },
            },
        }
    }

    /// Consumes `cost` units of `key` (0 only reads, negative gives back). With
    /// `count_denied`, a denied hit is remembered so the next give-back cancels it
    /// instead of returning a real unit (the Store interface). `None` when no quota is
    /// set yet.
    pub async fn check(&self, key: &str, cost: i64, count_denied: bool) -> Option<Outcome> {
        let quota = self.quota()?;
        if cost > 0 {
            self.stats.checks.fetch_add(1, Ordering::Relaxed);
        }
        let full_key = self.key(key);
        let args = [
            Arg::Int(quota.window_ms.saturating_mul(1000).min(i64::MAX as u64) as i64),
            Arg::Int(quota.limit.min(i64::MAX as u64) as i64),
            Arg::Int(cost),
            Arg::Int(i64::from(count_denied)),
        ];
        let (result, event) = if self.in_flight.fetch_add(1, Ordering::AcqRel) < self.max_in_flight
        {
            let r = self.conn.eval(&self.script, &[&full_key], &args).await;
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            r
        } else {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            self.stats.overloaded.fetch_add(1, Ordering::Relaxed);
            (Err(Failure::Down), None)
        };
        let (decision, source) = match result.map(|v| parse_decision(&v)) {
            Ok(Some(d)) => (d, Source::Redis),
            _ => (self.insure(key, cost, quota), Source::Insurance),
        };
        if cost > 0 {
            let counter = match (source, decision.allowed) {
                (Source::Redis, true) => &self.stats.redis_allowed,
                (Source::Redis, false) => &self.stats.redis_denied,
                (Source::Insurance, true) => &self.stats.insurance_allowed,
                (Source::Insurance, false) => &self.stats.insurance_denied,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        Some(Outcome {
            decision,
            source,
            event,
        })
    }

    /// Forgets `key` in Redis and in the local fallback.
    pub async fn reset_key(&self, key: &str) -> (Result<(), Failure>, Option<HealthEvent>) {
        if let Some(l) = self.local.lock().ok().and_then(|l| l.clone()) {
            l.reset(key);
        }
        let full_key = self.key(key);
        self.conn
            .run(|mut conn| async move {
                redis::cmd("DEL")
                    .arg(&full_key)
                    .query_async::<i64>(&mut conn)
                    .await
                    .map(|_| ())
            })
            .await
    }

    /// Deletes every key under the prefix (`SCAN` + `UNLINK`; on a cluster this reaches
    /// only one node). Returns how many keys were removed.
    pub async fn reset_all(&self) -> (Result<u64, Failure>, Option<HealthEvent>) {
        if let Some(l) = self.local.lock().ok().and_then(|l| l.clone()) {
            l.reset_all();
        }
        let pattern = format!("{}*", glob_escape(&self.prefix));
        self.conn
            .run(|mut conn| async move {
                let mut cursor = 0u64;
                let mut removed = 0u64;
                loop {
                    let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(1000)
                        .query_async(&mut conn)
                        .await?;
                    if !keys.is_empty() {
                        removed += redis::cmd("UNLINK")
                            .arg(&keys)
                            .query_async::<u64>(&mut conn)
                            .await?;
                    }
                    if next == 0 {
                        return Ok(removed);
                    }
                    cursor = next;
                }
            })
            .await
    }
}

/// Escapes the glob characters of a Redis `MATCH` pattern.
pub(super) fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(super) fn parse_decision(v: &Value) -> Option<Decision> {
    let Value::Array(items) = v else { return None };
    let int = |i: usize| match items.get(i) {
        Some(Value::Int(n)) => Some((*n).max(0) as u64),
        _ => None,
    };
    Some(Decision {
        allowed: int(0)? == 1,
        remaining: int(1)?,
        retry_after_ms: int(2)?,
        reset_ms: int(3)?,
        denied_hits: int(4)?,
    })
}

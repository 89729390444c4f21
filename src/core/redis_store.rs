//! Distributed rate limiting and a shared advice cache on Redis.
//!
//! One check is one round trip: `EVALSHA` of a GCRA script that reads the Redis server's
//! `TIME`, touches exactly one key (so it works on Redis Cluster) and always leaves that
//! key with a `PX` expiry no longer than the window. When the server's script cache was
//! flushed, the `NOSCRIPT` reply is answered with one `EVAL` of the same source, which
//! caches it again.
//!
//! [`RedisConn`] wraps a lazily created redis-rs `ConnectionManager` (reconnects on its
//! own; or a cluster connection that follows the slots of a Redis Cluster) with a per-operation timeout and an outage detector ([`Health`]): the first
//! failure marks Redis down and produces one [`HealthEvent::Down`]; while down, requests
//! skip Redis (no waiting on a dead server) except one probe per probe interval, and the
//! probe that succeeds produces one [`HealthEvent::Recovered`]. While Redis is down or a
//! call fails, [`RedisLimiter`] answers with its [`Insurance`] policy.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::{Client, Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, ServerErrorKind, Value};

use crate::core::clock::SharedClock;

/// GCRA over one key. ARGV: window in microseconds, limit, cost, count-denied flag. A
/// positive cost consumes, 0 only reads, a negative cost gives units back. The value is
/// the theoretical arrival time (TAT) in server microseconds, optionally followed by
/// `|n`: denied hits counted for a Store (express-rate-limit gives every hit back on a
/// failed response, denied ones included; those must not return real units). The key
/// expires exactly when it stops mattering. Returns {allowed, remaining, retry-after
/// ms, reset ms, denied hits held}.
const GCRA_LUA: &str = r#"
if redis.replicate_commands then redis.replicate_commands() end
local key = KEYS[1]
local period = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = period / limit
local raw = redis.call('GET', key)
local tat, over = nil, 0
if raw then
  local a, b = string.match(raw, '^([^|]+)|?(%d*)$')
  tat = tonumber(a)
  over = tonumber(b) or 0
end
local stored = tat ~= nil
if tat == nil or tat < now then tat = now; over = 0 end
local function save()
  if tat <= now and over == 0 then
    redis.call('DEL', key)
    return
  end
  local v = string.format('%.17g', tat)
  if over > 0 then v = v .. '|' .. over end
  redis.call('SET', key, v, 'PX', math.max(1, math.ceil((tat - now) / 1000)))
end
local allowed = 1
local retry = 0
if cost > 0 then
  local allow_at = tat + cost * interval - period
  -- 1 microsecond of tolerance absorbs float rounding of interval * limit
  if allow_at <= now + 1 then
    tat = tat + cost * interval
    save()
  else
    allowed = 0
    retry = allow_at - now
    if ARGV[4] == '1' then over = over + cost; save() end
  end
elseif cost < 0 and stored then
  local give = -cost
  local from_over = math.min(over, give)
  over = over - from_over
  tat = math.max(now, tat - (give - from_over) * interval)
  save()
end
local remaining = math.floor((now + period - tat + 1) / interval)
if remaining < 0 then remaining = 0 elseif remaining > limit then remaining = limit end
return {allowed, remaining, math.ceil(retry / 1000), math.ceil((tat - now) / 1000), over}
"#;

/// Deletes a lock only if it still holds our token, so a lock that expired and was
/// taken by another process is never released by us.
const UNLOCK_LUA: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

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

/// Who answered a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Redis,
    Insurance,
}

/// A change of Redis availability, reported once per outage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthEvent {
    /// Redis just became unavailable; the text says why.
    Down(String),
    /// Redis answers again after `down_ms` milliseconds.
    Recovered { down_ms: u64 },
    /// Redis refused a command for a reason other than availability (a key of the wrong
    /// type, missing permissions, a cluster redirection); reported once per connection.
    Refused(String),
}

impl HealthEvent {
    /// One log line describing the event.
    pub fn message(&self, target: &str, fallback: &str) -> String {
        match self {
            Self::Down(why) => format!(
                "qerrors redis: {target} unavailable ({why}); using {fallback} until it answers again"
            ),
            Self::Recovered { down_ms } => {
                format!("qerrors redis: {target} available again after {down_ms} ms")
            }
            Self::Refused(why) => format!(
                "qerrors redis: {target} refused a command ({why}); using {fallback} for such calls (logged once)"
            ),
        }
    }
}

/// A check answered, by Redis or by the insurance policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub decision: Decision,
    pub source: Source,
    pub event: Option<HealthEvent>,
}

/// Why an operation did not reach a Redis answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Redis is marked down and this call was not the probe.
    Down,
    /// The operation failed; `outage` tells whether it marked Redis down.
    Failed { message: String, outage: bool },
    /// The connection was closed by [`RedisConn::close`].
    Closed,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Down => f.write_str("Redis is unavailable"),
            Self::Failed { message, .. } => f.write_str(message),
            Self::Closed => f.write_str("the Redis connection is closed"),
        }
    }
}

/// Whether a call may use Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Up,
    /// Redis is down and this call is the one probe of this interval.
    Probe,
    Skip,
}

/// Outage detector: lock-free, driven by a clock so it is testable with a fake one.
pub struct Health {
    clock: SharedClock,
    probe_interval_ms: u64,
    /// 0 while up; otherwise the clock time the outage began, plus one.
    down_since: AtomicU64,
    next_probe: AtomicU64,
}

impl Health {
    pub fn new(clock: SharedClock, probe_interval_ms: u64) -> Self {
        Self {
            clock,
            probe_interval_ms,
            down_since: AtomicU64::new(0),
            next_probe: AtomicU64::new(0),
        }
    }

    pub fn is_down(&self) -> bool {
        self.down_since.load(Ordering::Acquire) != 0
    }

    /// Milliseconds since the current outage began, 0 while up.
    pub fn down_for_ms(&self) -> u64 {
        match self.down_since.load(Ordering::Acquire) {
            0 => 0,
            since => self.clock.now_ms().saturating_sub(since - 1),
        }
    }

    /// Decides whether this call may use Redis; while down, one call per interval probes.
    pub fn gate(&self) -> Gate {
        if !self.is_down() {
            return Gate::Up;
        }
        let now = self.clock.now_ms();
        let next = self.next_probe.load(Ordering::Acquire);
        if now >= next
            && self
                .next_probe
                .compare_exchange(
                    next,
                    now + self.probe_interval_ms,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_ok()
        {
            Gate::Probe
        } else {
            Gate::Skip
        }
    }

    /// Records an outage-class failure. `Some(())` for exactly one caller per outage.
    pub fn on_failure(&self) -> Option<()> {
        let now = self.clock.now_ms();
        self.next_probe
            .fetch_max(now + self.probe_interval_ms, Ordering::AcqRel);
        self.down_since
            .compare_exchange(0, now + 1, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| ())
    }

    /// Records a success. Only a probe ends an outage: a slow reply to a request sent
    /// before the outage says nothing about Redis now. Returns the outage length.
    pub fn on_success(&self, gate: Gate) -> Option<u64> {
        if gate != Gate::Probe {
            return None;
        }
        let since = self.down_since.swap(0, Ordering::AcqRel);
        (since != 0).then(|| self.clock.now_ms().saturating_sub(since - 1))
    }
}

/// Counters, all monotonic.
#[derive(Debug, Default)]
pub struct ConnStats {
    pub commands: AtomicU64,
    pub timeouts: AtomicU64,
    pub errors: AtomicU64,
    pub skipped: AtomicU64,
    pub outages: AtomicU64,
    pub recoveries: AtomicU64,
    pub script_reloads: AtomicU64,
}

/// Options of a [`RedisConn`].
#[derive(Debug, Clone)]
pub struct ConnOptions {
    pub url: String,
    /// Per-operation budget, connecting included.
    pub timeout_ms: u64,
    /// While down, how often one request probes Redis.
    pub probe_interval_ms: u64,
    /// `url` is a seed node of a Redis Cluster: commands follow the cluster's slots.
    pub cluster: bool,
}

enum Target {
    Single(Client),
    Cluster(Box<ClusterClient>, String),
}

/// A connection to one server (multiplexed, reconnecting) or to a Redis Cluster (one
/// multiplexed connection per node, following `MOVED`/`ASK`). Cheap to clone.
#[derive(Clone)]
pub enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(cmd, offset, count),
            Self::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// A shared, lazily connected, self-healing Redis connection with timeouts.
pub struct RedisConn {
    target: Target,
    manager: Mutex<Option<Conn>>,
    timeout: Duration,
    health: Health,
    closed: AtomicBool,
    /// Whether a non-availability error was already reported.
    refusal_logged: AtomicBool,
    last_error: Mutex<String>,
    pub stats: ConnStats,
}

impl RedisConn {
    /// Validates the URL; does no I/O (the connection is made by the first operation).
    pub fn new(opts: &ConnOptions, clock: SharedClock) -> Result<Self, String> {
        let target = if opts.cluster {
            // Validate the seed URL the way a single connection would.
            Client::open(opts.url.as_str()).map_err(|e| e.to_string())?;
            let client = ClusterClientBuilder::new(vec![opts.url.as_str()])
                .connection_timeout(Duration::from_millis(opts.timeout_ms.max(1)))
                .retries(1)
                .build()
                .map_err(|e| e.to_string())?;
            let seed = Client::open(opts.url.as_str())
                .map(|c| c.get_connection_info().addr().to_string())
                .unwrap_or_default();
            Target::Cluster(Box::new(client), seed)
        } else {
            Target::Single(Client::open(opts.url.as_str()).map_err(|e| e.to_string())?)
        };
        Ok(Self {
            target,
            manager: Mutex::new(None),
            timeout: Duration::from_millis(opts.timeout_ms.max(1)),
            health: Health::new(clock, opts.probe_interval_ms.max(1)),
            closed: AtomicBool::new(false),
            refusal_logged: AtomicBool::new(false),
            last_error: Mutex::new(String::new()),
            stats: ConnStats::default(),
        })
    }

    pub fn health(&self) -> &Health {
        &self.health
    }

    pub fn last_error(&self) -> String {
        self.last_error
            .lock()
            .map(|e| e.clone())
            .unwrap_or_default()
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Stops using Redis. Operations after this fail with [`Failure::Closed`]; the
    /// connection itself closes when the last in-flight operation drops its handle.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        if let Ok(mut slot) = self.manager.lock() {
            slot.take();
        }
    }

    /// `host:port/db` of the server, without credentials, for log lines.
    pub fn target(&self) -> String {
        match &self.target {
            Target::Single(client) => {
                let info = client.get_connection_info();
                format!("Redis at {}/{}", info.addr(), info.redis_settings().db())
            }
            Target::Cluster(_, seed) => format!("Redis Cluster via {seed}"),
        }
    }

    fn slot(&self) -> Result<std::sync::MutexGuard<'_, Option<Conn>>, RedisError> {
        let slot = self
            .manager
            .lock()
            .map_err(|_| RedisError::from((ErrorKind::Client, "connection state poisoned")))?;
        if self.is_closed() {
            return Err(RedisError::from((ErrorKind::Client, "closed")));
        }
        Ok(slot)
    }

    /// The shared connection, created on first use (inside the tokio runtime).
    async fn manager(&self) -> Result<Conn, RedisError> {
        let cluster = {
            let mut slot = self.slot()?;
            if let Some(m) = slot.as_ref() {
                return Ok(m.clone());
            }
            match &self.target {
                Target::Single(client) => {
                    // Few, short retries: our own probe schedule drives recovery, and a
                    // long backoff inside the manager would make every probe wait on it.
                    let cfg = ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(self.timeout))
                        .set_number_of_retries(1)
                        .set_min_delay(Duration::from_millis(20))
                        .set_max_delay(Duration::from_millis(200));
                    let m = Conn::Single(ConnectionManager::new_lazy_with_config(
                        client.clone(),
                        cfg,
                    )?);
                    *slot = Some(m.clone());
                    return Ok(m);
                }
                Target::Cluster(client, _) => ClusterClient::clone(client),
            }
        };
        // A cluster connection discovers the slots before it exists: connect outside the
        // lock; if two calls race, the first one stored wins and the other is dropped.
        let made = Conn::Cluster(cluster.get_async_connection().await?);
        let mut slot = self.slot()?;
        Ok(slot.get_or_insert(made).clone())
    }

    /// Runs one operation against Redis with the timeout and outage bookkeeping.
    /// The second value is the availability change this call caused, if any.
    pub async fn run<T, F, Fut>(&self, op: F) -> (Result<T, Failure>, Option<HealthEvent>)
    where
        F: FnOnce(Conn) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        if self.is_closed() {
            return (Err(Failure::Closed), None);
        }
        let gate = self.health.gate();
        if gate == Gate::Skip {
            self.stats.skipped.fetch_add(1, Ordering::Relaxed);
            return (Err(Failure::Down), None);
        }
        self.stats.commands.fetch_add(1, Ordering::Relaxed);
        let result = tokio::time::timeout(self.timeout, async {
            let conn = self.manager().await?;
            op(conn).await
        })
        .await;
        let (message, outage) = match result {
            Ok(Ok(v)) => {
                let event = self.health.on_success(gate).map(|down_ms| {
                    self.stats.recoveries.fetch_add(1, Ordering::Relaxed);
                    HealthEvent::Recovered { down_ms }
                });
                return (Ok(v), event);
            }
            Err(_) => {
                self.stats.timeouts.fetch_add(1, Ordering::Relaxed);
                (
                    format!("no reply within {} ms", self.timeout.as_millis()),
                    true,
                )
            }
            Ok(Err(e)) => {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
                (e.to_string(), is_outage(&e))
            }
        };
        if let Ok(mut last) = self.last_error.lock() {
            last.clone_from(&message);
        }
        let event = if outage {
            self.health.on_failure().map(|()| {
                self.stats.outages.fetch_add(1, Ordering::Relaxed);
                HealthEvent::Down(message.clone())
            })
        } else if !self.refusal_logged.swap(true, Ordering::AcqRel) {
            Some(HealthEvent::Refused(message.clone()))
        } else {
            None
        };
        (Err(Failure::Failed { message, outage }), event)
    }

    /// `EVALSHA`, and on `NOSCRIPT` (script cache flushed, or a new server) one `EVAL`
    /// of the source, which also caches it again.
    pub async fn eval(
        &self,
        script: &Script,
        keys: &[&str],
        args: &[Arg<'_>],
    ) -> (Result<Value, Failure>, Option<HealthEvent>) {
        self.run(|mut conn| async move {
            let build = |verb: &str, first: &str| {
                let mut cmd = redis::cmd(verb);
                cmd.arg(first).arg(keys.len()).arg(keys);
                for a in args {
                    match a {
                        Arg::Int(i) => cmd.arg(*i),
                        Arg::Str(s) => cmd.arg(*s),
                    };
                }
                cmd
            };
            match build("EVALSHA", &script.sha)
                .query_async::<Value>(&mut conn)
                .await
            {
                Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                    self.stats.script_reloads.fetch_add(1, Ordering::Relaxed);
                    build("EVAL", script.source)
                        .query_async::<Value>(&mut conn)
                        .await
                }
                other => other,
            }
        })
        .await
    }
}

/// Errors that mean Redis itself is unavailable, as opposed to a bad command.
fn is_outage(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.is_unrecoverable_error()
        || matches!(
            e.kind(),
            ErrorKind::Server(ServerErrorKind::BusyLoading)
                | ErrorKind::Server(ServerErrorKind::TryAgain)
                | ErrorKind::Server(ServerErrorKind::ClusterDown)
                | ErrorKind::Server(ServerErrorKind::MasterDown)
                | ErrorKind::Server(ServerErrorKind::ReadOnly)
        )
}

/// A Lua script and its SHA1, computed once.
pub struct Script {
    source: &'static str,
    sha: String,
}

impl Script {
    pub fn new(source: &'static str) -> Self {
        Self {
            source,
            sha: redis::Script::new(source).get_hash().to_owned(),
        }
    }
}

/// A script argument.
pub enum Arg<'a> {
    Int(i64),
    Str(&'a str),
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
    in_flight: AtomicUsize,
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
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn parse_decision(v: &Value) -> Option<Decision> {
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

/// Result of [`SharedCache::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// We hold the in-flight marker; release it with this token.
    Owner(String),
    /// Another process holds it.
    Busy,
    /// Redis could not answer; decide locally.
    Unavailable,
}

/// A string cache with TTLs and short-lived in-flight markers, shared through Redis, so
/// several processes make one expensive call per key between them.
pub struct SharedCache {
    conn: Arc<RedisConn>,
    unlock: Script,
    prefix: String,
    lock_prefix: String,
}

impl SharedCache {
    pub fn new(opts: &ConnOptions, prefix: &str, clock: SharedClock) -> Result<Self, String> {
        Ok(Self {
            conn: Arc::new(RedisConn::new(opts, clock)?),
            unlock: Script::new(UNLOCK_LUA),
            prefix: prefix.to_owned(),
            lock_prefix: format!("{prefix}lock:"),
        })
    }

    pub fn conn(&self) -> &RedisConn {
        &self.conn
    }

    /// The cached value; `None` on a miss or when Redis cannot answer.
    pub async fn get(&self, key: &str) -> (Option<String>, Option<HealthEvent>) {
        let k = format!("{}{key}", self.prefix);
        let (r, ev) = self
            .conn
            .run(|mut c| async move {
                redis::cmd("GET")
                    .arg(&k)
                    .query_async::<Option<String>>(&mut c)
                    .await
            })
            .await;
        (r.ok().flatten(), ev)
    }

    /// Stores `value` for `ttl_ms`. `false` when Redis could not take it.
    pub async fn set(&self, key: &str, value: &str, ttl_ms: u64) -> (bool, Option<HealthEvent>) {
        let k = format!("{}{key}", self.prefix);
        let (r, ev) = self
            .conn
            .run(|mut c| async move {
                redis::cmd("SET")
                    .arg(&k)
                    .arg(value)
                    .arg("PX")
                    .arg(ttl_ms.max(1))
                    .query_async::<()>(&mut c)
                    .await
            })
            .await;
        (r.is_ok(), ev)
    }

    /// Takes the in-flight marker of `key` for at most `ttl_ms` (`SET NX PX`).
    pub async fn claim(&self, key: &str, ttl_ms: u64) -> (Claim, Option<HealthEvent>) {
        let k = format!("{}{key}", self.lock_prefix);
        let token = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let t = token.clone();
        let (r, ev) = self
            .conn
            .run(|mut c| async move {
                redis::cmd("SET")
                    .arg(&k)
                    .arg(&t)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_ms.max(1))
                    .query_async::<Option<String>>(&mut c)
                    .await
            })
            .await;
        let claim = match r {
            Ok(Some(_)) => Claim::Owner(token),
            Ok(None) => Claim::Busy,
            Err(_) => Claim::Unavailable,
        };
        (claim, ev)
    }

    /// Releases a marker taken by [`claim`](Self::claim), only if it is still ours.
    pub async fn release(&self, key: &str, token: &str) -> Option<HealthEvent> {
        let k = format!("{}{key}", self.lock_prefix);
        self.conn
            .eval(&self.unlock, &[&k], &[Arg::Str(token)])
            .await
            .1
    }

    /// Whether another process still holds the in-flight marker of `key`.
    pub async fn is_claimed(&self, key: &str) -> (Option<bool>, Option<HealthEvent>) {
        let k = format!("{}{key}", self.lock_prefix);
        let (r, ev) = self
            .conn
            .run(|mut c| async move {
                redis::cmd("EXISTS")
                    .arg(&k)
                    .query_async::<bool>(&mut c)
                    .await
            })
            .await;
        (r.ok(), ev)
    }

    /// The value of `key`, computing it with `compute` at most once across every process
    /// sharing this Redis: a miss takes the in-flight marker; a process that finds the
    /// marker taken polls for the value every `poll_ms` until it appears or the marker
    /// goes away (then it computes). When Redis is unavailable it computes locally.
    /// `events` receives every availability change for logging.
    pub async fn get_or_compute<V, F, Fut>(
        &self,
        key: &str,
        ttl_ms: u64,
        lock_ms: u64,
        poll_ms: u64,
        compute: F,
        events: &mut Vec<HealthEvent>,
    ) -> Option<Shared<V>>
    where
        V: AsRef<str> + From<String>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Option<V>>,
    {
        let mut note = |ev: Option<HealthEvent>| events.extend(ev);
        let (hit, ev) = self.get(key).await;
        note(ev);
        if let Some(v) = hit {
            return Some(Shared::Hit(V::from(v)));
        }
        let deadline = tokio::time::Instant::now() + Duration::from_millis(lock_ms);
        let token = loop {
            let (claim, ev) = self.claim(key, lock_ms).await;
            note(ev);
            match claim {
                Claim::Owner(t) => break Some(t),
                Claim::Unavailable => break None,
                Claim::Busy => {}
            }
            // Another process is computing: wait for its value or for its marker to go.
            loop {
                tokio::time::sleep(Duration::from_millis(poll_ms.max(1))).await;
                let (hit, ev) = self.get(key).await;
                note(ev);
                if let Some(v) = hit {
                    return Some(Shared::Hit(V::from(v)));
                }
                let (held, ev) = self.is_claimed(key).await;
                note(ev);
                if held != Some(true) || tokio::time::Instant::now() >= deadline {
                    break;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                break None;
            }
        };
        let value = compute().await;
        if let Some(v) = &value {
            let (_, ev) = self.set(key, v.as_ref(), ttl_ms).await;
            note(ev);
        }
        if let Some(t) = token {
            note(self.release(key, &t).await);
        }
        value.map(Shared::Computed)
    }
}

/// Where [`SharedCache::get_or_compute`] got its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared<V> {
    /// Found in Redis (possibly computed by another process).
    Hit(V),
    /// Computed here.
    Computed(V),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::FakeClock;
    use std::process::{Child, Command, Stdio};
    use std::sync::atomic::AtomicUsize;

    fn fake() -> Arc<FakeClock> {
        Arc::new(FakeClock::new(1_000))
    }

    #[test]
    fn health_reports_one_outage_and_one_recovery() {
        let clock = fake();
        let h = Health::new(clock.clone(), 100);
        assert_eq!(h.gate(), Gate::Up);
        assert_eq!(h.on_failure(), Some(()));
        assert_eq!(
            h.on_failure(),
            None,
            "second failure of the same outage is silent"
        );
        assert!(h.is_down());
        assert_eq!(h.gate(), Gate::Skip, "no probe before the interval");
        clock.advance(100);
        assert_eq!(h.gate(), Gate::Probe);
        assert_eq!(h.gate(), Gate::Skip, "one probe per interval");
        assert_eq!(
            h.on_success(Gate::Up),
            None,
            "a late reply is not a recovery"
        );
        assert!(h.is_down());
        assert_eq!(h.on_success(Gate::Probe), Some(100));
        assert!(!h.is_down());
        assert_eq!(h.gate(), Gate::Up);
        assert_eq!(h.on_success(Gate::Probe), None);
    }

    #[test]
    fn failed_probe_waits_a_full_interval() {
        let clock = fake();
        let h = Health::new(clock.clone(), 50);
        h.on_failure();
        clock.advance(50);
        assert_eq!(h.gate(), Gate::Probe);
        clock.advance(10);
        assert_eq!(h.on_failure(), None);
        clock.advance(45);
        assert_eq!(h.gate(), Gate::Skip);
        clock.advance(5);
        assert_eq!(h.gate(), Gate::Probe);
        assert_eq!(h.down_for_ms(), 110);
    }

    #[test]
    fn the_local_limiter_answers_like_the_redis_script() {
        use crate::core::rate_limit::{RateLimitConfig, RateLimiter};
        let clock = fake();
        let l = RateLimiter::new(RateLimitConfig::new(3, 3000), clock.clone())
            .unwrap_or_else(|e| panic!("{e}"));
        let l: &dyn LocalLimiter = &l;
        let seen: Vec<_> = (0..4).map(|_| l.check("k", 1)).collect();
        assert_eq!(
            seen.iter()
                .map(|d| (d.allowed, d.remaining))
                .collect::<Vec<_>>(),
            vec![(true, 2), (true, 1), (true, 0), (false, 0)]
        );
        assert_eq!(seen[3].retry_after_ms, 1000);
        assert_eq!(seen[3].reset_ms, 3000);
        assert_eq!(l.check("k", -1).remaining, 1);
        assert_eq!(l.check("k", 0).remaining, 1);
        clock.advance(1000);
        assert_eq!(l.check("k", 0).remaining, 2);
        l.reset("k");
        assert_eq!(l.check("k", 0).remaining, 3);
    }

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }

    #[test]
    fn decisions_parse_from_script_replies() {
        let v = Value::Array(vec![
            Value::Int(1),
            Value::Int(4),
            Value::Int(0),
            Value::Int(200),
            Value::Int(2),
        ]);
        assert_eq!(
            parse_decision(&v),
            Some(Decision {
                allowed: true,
                remaining: 4,
                retry_after_ms: 0,
                reset_ms: 200,
                denied_hits: 2
            })
        );
        assert_eq!(parse_decision(&Value::Nil), None);
        assert_eq!(parse_decision(&Value::Array(vec![Value::Int(1)])), None);
    }

    #[test]
    fn a_bad_url_is_refused_without_io() {
        let opts = ConnOptions {
            url: "http://nope".into(),
            timeout_ms: 100,
            probe_interval_ms: 100,
            cluster: false,
        };
        assert!(RedisConn::new(&opts, fake()).is_err());
    }

    /// A real redis-server on a free port, stopped on drop. `None` when the binary is absent.
    struct Server {
        child: Child,
        port: u16,
    }

    impl Server {
        fn start() -> Option<Self> {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .ok()?
                .local_addr()
                .ok()?
                .port();
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            let server = Self { child, port };
            for _ in 0..200 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(server);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            None
        }

        fn url(&self) -> String {
            format!("redis://127.0.0.1:{}/", self.port)
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    struct CountingLocal(AtomicUsize);

    impl LocalLimiter for CountingLocal {
        fn check(&self, _key: &str, _cost: i64) -> Decision {
            self.0.fetch_add(1, Ordering::SeqCst);
            Decision {
                allowed: false,
                remaining: 0,
                retry_after_ms: 7,
                reset_ms: 7,
                denied_hits: 0,
            }
        }
        fn reset(&self, _key: &str) {}
        fn reset_all(&self) {}
    }

    fn limiter(url: &str, insurance: Insurance, local: Arc<CountingLocal>) -> RedisLimiter {
        limiter_with(url, insurance, local, 2)
    }

    fn limiter_with(
        url: &str,
        insurance: Insurance,
        local: Arc<CountingLocal>,
        max_in_flight: usize,
    ) -> RedisLimiter {
        let opts = LimiterOptions {
            conn: ConnOptions {
                url: url.into(),
                timeout_ms: 500,
                probe_interval_ms: 1_000_000,
                cluster: false,
            },
            prefix: "t:".into(),
            insurance,
            max_in_flight,
        };
        let l = RedisLimiter::new(
            opts,
            fake(),
            Box::new(move |_| Some(Arc::clone(&local) as Arc<dyn LocalLimiter>)),
        );
        l.unwrap_or_else(|e| panic!("limiter: {e}"))
    }

    async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
        let client = Client::open(url).unwrap_or_else(|e| panic!("{e}"));
        client
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn gcra_allows_exactly_the_limit_and_keys_expire() {
        let Some(server) = Server::start() else {
            eprintln!("skipped: redis-server is not installed");
            return;
        };
        let l = limiter(
            &server.url(),
            Insurance::Closed,
            Arc::new(CountingLocal(0.into())),
        );
        assert!(l.check("k", 1, false).await.is_none(), "no quota yet");
        l.set_quota(Quota {
            window_ms: 3_600_000,
            limit: 5,
        });
        let mut remaining = vec![];
        for _ in 0..5 {
            let o = l
                .check("k", 1, false)
                .await
                .unwrap_or_else(|| panic!("quota"));
            assert_eq!(o.source, Source::Redis);
            assert!(o.decision.allowed);
            remaining.push(o.decision.remaining);
        }
        assert_eq!(remaining, vec![4, 3, 2, 1, 0]);
        let denied = l
            .check("k", 1, false)
            .await
            .unwrap_or_else(|| panic!("quota"));
        assert!(!denied.decision.allowed);
        // One unit comes back every window / limit = 720 s.
        assert!((719_000..=720_000).contains(&denied.decision.retry_after_ms));
        assert!(denied.decision.reset_ms <= 3_600_000 && denied.decision.reset_ms > 3_590_000);
        let mut c = raw(&server.url()).await;
        let ttl: i64 = redis::cmd("PTTL")
            .arg("t:k")
            .query_async(&mut c)
            .await
            .unwrap_or(-3);
        assert!(ttl > 3_590_000 && ttl <= 3_600_000, "ttl {ttl}");
        // Giving one back allows one more; reading consumes nothing.
        let back = l
            .check("k", -1, false)
            .await
            .unwrap_or_else(|| panic!("quota"));
        assert_eq!(back.decision.remaining, 1);
        let peek = l
            .check("k", 0, false)
            .await
            .unwrap_or_else(|| panic!("quota"));
        assert_eq!(peek.decision.remaining, 1);
        assert!(l
            .check("k", 1, false)
            .await
            .is_some_and(|o| o.decision.allowed));
        assert!(l
            .check("k", 1, false)
            .await
            .is_some_and(|o| !o.decision.allowed));
        // A Store counts denied hits: giving one back cancels a denied hit, not a unit.
        let counted = l
            .check("k", 1, true)
            .await
            .unwrap_or_else(|| panic!("quota"));
        assert_eq!(
            (counted.decision.allowed, counted.decision.denied_hits),
            (false, 1)
        );
        let back = l
            .check("k", -1, false)
            .await
            .unwrap_or_else(|| panic!("quota"));
        assert_eq!((back.decision.remaining, back.decision.denied_hits), (0, 0));
        assert!(l
            .check("k", 1, true)
            .await
            .is_some_and(|o| !o.decision.allowed));
        assert_eq!(l.stats.redis_allowed.load(Ordering::SeqCst), 6);
        assert_eq!(l.stats.redis_denied.load(Ordering::SeqCst), 4);
        // A short window expires the key by itself.
        l.set_quota(Quota {
            window_ms: 50,
            limit: 2,
        });
        assert!(l
            .check("short", 1, false)
            .await
            .is_some_and(|o| o.decision.allowed));
        let ttl: i64 = redis::cmd("PTTL")
            .arg("t:short")
            .query_async(&mut c)
            .await
            .unwrap_or(-3);
        assert!((1..=25).contains(&ttl), "ttl {ttl}");
        assert_eq!(l.reset_all().await.0, Ok(2));
        let n: i64 = redis::cmd("DBSIZE").query_async(&mut c).await.unwrap_or(-1);
        assert_eq!(n, 0);
    }

    #[tokio::test]
    async fn checks_beyond_the_in_flight_bound_use_the_insurance() {
        let Some(server) = Server::start() else {
            eprintln!("skipped: redis-server is not installed");
            return;
        };
        let l = limiter(
            &server.url(),
            Insurance::Open,
            Arc::new(CountingLocal(0.into())),
        );
        l.set_quota(Quota {
            window_ms: 60_000,
            limit: 100,
        });
        // The test runtime is single-threaded: all six start before any reply arrives.
        let l = Arc::new(l);
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let l = Arc::clone(&l);
                tokio::spawn(async move { l.check("j", 1, false).await })
            })
            .collect();
        let mut all = vec![];
        for h in handles {
            all.extend(h.await.ok().flatten());
        }
        assert_eq!(all.len(), 6);
        let insured = all.iter().filter(|o| o.source == Source::Insurance).count();
        assert_eq!(insured, 4, "2 in flight at most");
        assert_eq!(l.stats.overloaded.load(Ordering::SeqCst), 4);
        assert_eq!(l.in_flight.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn large_limits_with_inexact_intervals_allow_exactly_the_limit() {
        let Some(server) = Server::start() else {
            eprintln!("skipped: redis-server is not installed");
            return;
        };
        let local = Arc::new(CountingLocal(0.into()));
        let l = Arc::new(limiter_with(
            &server.url(),
            Insurance::Closed,
            local,
            100_000,
        ));
        for (window_ms, limit) in [(3_600_000, 999), (7_000_000, 4_999), (86_400_000, 7_777)] {
            l.set_quota(Quota { window_ms, limit });
            let key = format!("big{limit}");
            // Pipelined: all checks are in flight together, as from a busy server.
            let handles: Vec<_> = (0..limit + 20)
                .map(|_| {
                    let (l, key) = (Arc::clone(&l), key.clone());
                    tokio::spawn(async move { l.check(&key, 1, false).await })
                })
                .collect();
            let mut allowed = 0;
            for h in handles {
                let o = h.await.ok().flatten().unwrap_or_else(|| panic!("quota"));
                assert_eq!(o.source, Source::Redis);
                allowed += u64::from(o.decision.allowed);
            }
            assert_eq!(allowed, limit, "window {window_ms} ms");
            let peek = l
                .check(&key, 0, false)
                .await
                .unwrap_or_else(|| panic!("quota"));
            assert_eq!(peek.decision.remaining, 0);
        }
    }

    #[tokio::test]
    async fn a_refused_command_uses_the_insurance_and_is_reported_once() {
        let Some(server) = Server::start() else {
            eprintln!("skipped: redis-server is not installed");
            return;
        };
        let l = limiter(
            &server.url(),
            Insurance::Open,
            Arc::new(CountingLocal(0.into())),
        );
        l.set_quota(Quota {
            window_ms: 60_000,
            limit: 10,
        });
        let mut c = raw(&server.url()).await;
        let _: () = redis::cmd("LPUSH")
            .arg("t:list")
            .arg("x")
            .query_async(&mut c)
            .await
            .unwrap_or(());
        let first = l
            .check("list", 1, false)
            .await
            .unwrap_or_else(|| panic!("quota"));
        assert_eq!(first.source, Source::Insurance);
        assert!(matches!(first.event, Some(HealthEvent::Refused(_))));
        let second = l
            .check("list", 1, false)
            .await
            .unwrap_or_else(|| panic!("quota"));
        assert_eq!((second.source, second.event), (Source::Insurance, None));
        let fine = l
            .check("other", 1, false)
            .await
            .unwrap_or_else(|| panic!("quota"));
        assert_eq!(
            fine.source,
            Source::Redis,
            "not an outage: other keys still use Redis"
        );
        assert_eq!(l.conn().stats.outages.load(Ordering::SeqCst), 0);
        assert_eq!(l.conn().stats.errors.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_flushed_script_cache_costs_one_reload() {
        let Some(server) = Server::start() else {
            eprintln!("skipped: redis-server is not installed");
            return;
        };
        let l = limiter(
            &server.url(),
            Insurance::Closed,
            Arc::new(CountingLocal(0.into())),
        );
        l.set_quota(Quota {
            window_ms: 60_000,
            limit: 100,
        });
        assert!(l
            .check("a", 1, false)
            .await
            .is_some_and(|o| o.decision.allowed));
        assert_eq!(l.conn().stats.script_reloads.load(Ordering::SeqCst), 1);
        assert!(l
            .check("a", 1, false)
            .await
            .is_some_and(|o| o.decision.remaining == 98));
        assert_eq!(l.conn().stats.script_reloads.load(Ordering::SeqCst), 1);
        let mut c = raw(&server.url()).await;
        let _: () = redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query_async(&mut c)
            .await
            .unwrap_or(());
        let o = l
            .check("a", 1, false)
            .await
            .unwrap_or_else(|| panic!("quota"));
        assert_eq!((o.source, o.decision.remaining), (Source::Redis, 97));
        assert_eq!(l.conn().stats.script_reloads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_unreachable_redis_engages_the_insurance_once() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(1);
        let url = format!("redis://127.0.0.1:{port}/");
        let local = Arc::new(CountingLocal(0.into()));
        let quota = Quota {
            window_ms: 1000,
            limit: 3,
        };
        for (insurance, allowed) in [(Insurance::Open, true), (Insurance::Closed, false)] {
            let l = limiter(&url, insurance, Arc::clone(&local));
            l.set_quota(quota);
            let first = l
                .check("x", 1, false)
                .await
                .unwrap_or_else(|| panic!("quota"));
            assert_eq!(first.source, Source::Insurance);
            assert_eq!(first.decision.allowed, allowed);
            assert!(matches!(first.event, Some(HealthEvent::Down(_))));
            for _ in 0..3 {
                let o = l
                    .check("x", 1, false)
                    .await
                    .unwrap_or_else(|| panic!("quota"));
                assert_eq!((o.source, o.event), (Source::Insurance, None));
            }
            assert_eq!(l.conn().stats.outages.load(Ordering::SeqCst), 1);
            assert_eq!(l.conn().stats.skipped.load(Ordering::SeqCst), 3);
        }
        assert_eq!(local.0.load(Ordering::SeqCst), 0);
        let l = limiter(&url, Insurance::Local, Arc::clone(&local));
        l.set_quota(quota);
        let o = l
            .check("x", 1, false)
            .await
            .unwrap_or_else(|| panic!("quota"));
        assert_eq!(o.decision.retry_after_ms, 7, "the local limiter decided");
        assert_eq!(local.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn two_caches_compute_a_shared_value_once() {
        let Some(server) = Server::start() else {
            eprintln!("skipped: redis-server is not installed");
            return;
        };
        let opts = ConnOptions {
            url: server.url(),
            timeout_ms: 500,
            probe_interval_ms: 100,
            cluster: false,
        };
        let a = SharedCache::new(&opts, "c:", fake()).unwrap_or_else(|e| panic!("{e}"));
        let b = SharedCache::new(&opts, "c:", fake()).unwrap_or_else(|e| panic!("{e}"));
        let calls = AtomicUsize::new(0);
        let compute = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Some("advice".to_owned())
        };
        let (mut ea, mut eb) = (vec![], vec![]);
        let (ra, rb) = tokio::join!(
            a.get_or_compute("sig", 60_000, 5_000, 5, compute, &mut ea),
            b.get_or_compute("sig", 60_000, 5_000, 5, compute, &mut eb),
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let mut got = [ra, rb];
        got.sort_by_key(|r| matches!(r, Some(Shared::Hit(_))));
        assert_eq!(
            got,
            [
                Some(Shared::Computed("advice".into())),
                Some(Shared::Hit("advice".into()))
            ]
        );
        let (held, _) = a.is_claimed("sig").await;
        assert_eq!(held, Some(false), "the marker is released");
        assert!(ea.is_empty() && eb.is_empty());
    }
}

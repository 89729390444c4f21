//! The connection: lazily created, reconnecting, with timeouts and outage detection.

use super::*;

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

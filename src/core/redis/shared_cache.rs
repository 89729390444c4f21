//! A string cache with in-flight markers shared by several processes through Redis.

use super::*;

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

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

mod conn;
mod health;
mod limiter;
mod scripts;
mod shared_cache;

pub use conn::*;
pub use health::*;
pub use limiter::*;
use scripts::*;
pub use shared_cache::*;

#[cfg(test)]
mod tests;

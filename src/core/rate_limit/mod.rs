//! A keyed rate limiter: per-key GCRA, bounded, O(1) per decision.
//!
//! # Algorithm
//! GCRA (the generic cell rate algorithm) keeps one number per key, the theoretical
//! arrival time `tat`: the moment at which the key's bucket would be full again. A request
//! of cost `c` is allowed when `max(tat, now) + c·T - now <= burst·T`, where `T` is the
//! emission interval `windowMs / limit`. It is a token bucket of `burst` tokens refilled
//! at `limit` per `windowMs`, stored as a single time instead of a (count, time) pair.
//! A denied request changes nothing (a blocked client does not push its own reset away).
//!
//! Time is counted in units of `1 / scale` ms with `scale = limit / gcd(limit, windowMs)`,
//! so `T = windowMs / gcd` is an integer and all arithmetic is exact: decisions equal a
//! token-bucket model with exact rationals (see the property test).
//!
//! # Bounds
//! - At most `max_keys` keys. A new key arriving at a full table removes a key chosen by
//!   CLOCK (second chance), an approximation of least recently seen: the eviction hand
//!   walks the slots, passing over (and clearing) keys seen since its last pass, and
//!   removes the first refilled or unseen one (counted as `swept` or `evicted`). New keys
//!   start unseen, so a flood of one-time keys replaces itself rather than the clients
//!   that keep coming back. Exact LRU needs a linked list, whose neighbour updates cost
//!   two cache misses per request on a large table.
//! - A key whose bucket is full again (`tat <= now`) is indistinguishable from an absent
//!   key, so it is deleted by an incremental sweep: every operation inspects a couple of
//!   slots at a moving cursor, and [`RateLimiter::sweep`] lets an idle owner continue in
//!   bounded steps. Sweeping never changes a decision.
//! - Keys are hashed once to 64 bits with a per-limiter random seed; only the hash is
//!   stored, so a key's length never costs memory. Two keys colliding on all 64 bits
//!   would share a bucket (about 3e-8 for a million keys).
//!
//! # Limits of the numbers
//! `limit`, `burst` and costs are at most [`MAX_LIMIT`]; `windowMs` is at most
//! [`MAX_WINDOW_MS`] (the `setTimeout` maximum, about 24.8 days). With these bounds the
//! 64-bit time arithmetic cannot overflow during 58 years of process uptime. Penalties
//! can push a key's `tat` arbitrarily far ahead, so they saturate at [`MAX_AHEAD`] units
//! ahead of now: every later sum (`ahead + interval`, `tat + cost·interval`) then stays
//! far below 2^64, and `penalty`, `check`, `retryAfterMs` and `resetMs` keep agreeing
//! (a saturated key stays limited for 2^62 units: at least 14 years at the finest scale).
//!
//! # Threads
//! [`RateLimiter`] is `Send + Sync`; every method takes `&self`. One made by
//! [`RateLimiter::new`] holds one uncontended mutex for a few dozen nanoseconds per call,
//! so tokio tasks can share it through an `Arc`; one made by
//! [`RateLimiter::new_thread_owned`] (the addon's, called from the JS thread only) takes
//! no lock and panics when called from another thread (`cell.rs`).
//!
//! # Layout
//! [`config`] holds the options and their bounds, [`hash`] the seeded key hash, [`ip`]
//! the IPv6 grouping, [`table`] the bounded key table (eviction and sweep), [`gcra`]
//! the limiter that decides with them, and [`fixed_window`] its other algorithm.

mod cell;
mod config;
mod fixed_window;
mod gcra;
mod hash;
pub mod ip;
mod table;
#[cfg(test)]
mod tests;

pub use config::{
    Algorithm, ConfigError, RateLimitConfig, DEFAULT_MAX_KEYS, DEFAULT_SWEEP_PER_OP, MAX_AHEAD,
    MAX_KEYS, MAX_LIMIT, MAX_WINDOW_MS,
};
pub use gcra::{split_keys, KeyState, RateLimiter};
pub use table::Stats;

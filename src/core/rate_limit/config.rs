//! Options of a [`RateLimiter`](super::RateLimiter) and their bounds.

use std::fmt;

/// Largest `limit`, `burst`, cost, penalty or reward.
pub const MAX_LIMIT: u64 = 10_000_000;
/// Largest window: 2^31 - 1 ms (about 24.8 days), the largest `setTimeout` delay.
pub const MAX_WINDOW_MS: u64 = 2_147_483_647;
/// Furthest a key's `tat` may run ahead of now, in time units (2^62): room for any cost
/// times any interval (< 2^55) on top without overflowing 64 bits.
pub const MAX_AHEAD: u64 = 1 << 62;
/// Largest `max_keys`.
pub const MAX_KEYS: usize = 100_000_000;
/// Default `max_keys`.
pub const DEFAULT_MAX_KEYS: usize = 100_000;
/// Slots inspected by the sweep on every operation.
pub const DEFAULT_SWEEP_PER_OP: usize = 2;

/// Options of a [`RateLimiter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Requests allowed per window (the refill rate is `limit / window_ms`).
    pub limit: u64,
    /// Window length in milliseconds.
    pub window_ms: u64,
    /// Bucket size: requests that may arrive at once. Defaults to `limit`.
    pub burst: u64,
    /// Most keys held at once.
    pub max_keys: usize,
    /// Group IPv6 keys by this prefix length (1-128); IPv4 and IPv4-mapped keys by address.
    pub ipv6_prefix: Option<u8>,
    /// Slots the incremental sweep inspects per operation (0 disables it).
    pub sweep_per_op: usize,
    /// How hits are counted.
    pub algorithm: Algorithm,
}

/// How a [`RateLimiter`](super::RateLimiter) counts hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// A bucket of `burst` requests refilled smoothly at `limit` per `window_ms`.
    #[default]
    Gcra,
    /// express-rate-limit's MemoryStore: every hit counts, refused ones too, until the
    /// key's window ends `window_ms` after its first hit.
    FixedWindow,
}

impl RateLimitConfig {
    /// `limit` per `window_ms`, burst = limit, default bounds.
    pub fn new(limit: u64, window_ms: u64) -> Self {
        Self {
            limit,
            window_ms,
            burst: limit,
            max_keys: DEFAULT_MAX_KEYS,
            ipv6_prefix: None,
            sweep_per_op: DEFAULT_SWEEP_PER_OP,
            algorithm: Algorithm::Gcra,
        }
    }

    /// Checks every bound; the error names the offending option.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.limit == 0 || self.limit > MAX_LIMIT {
            return Err(ConfigError::Limit);
        }
        if self.window_ms == 0 || self.window_ms > MAX_WINDOW_MS {
            return Err(ConfigError::Window);
        }
        if self.burst == 0 || self.burst > MAX_LIMIT {
            return Err(ConfigError::Burst);
        }
        if self.algorithm == Algorithm::FixedWindow && self.burst != self.limit {
            return Err(ConfigError::BurstFixedWindow);
        }
        if self.max_keys == 0 || self.max_keys > MAX_KEYS {
            return Err(ConfigError::MaxKeys);
        }
        if matches!(self.ipv6_prefix, Some(p) if p == 0 || p > 128) {
            return Err(ConfigError::Ipv6Prefix);
        }
        Ok(())
    }
}

/// An option out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    Limit,
    Window,
    Burst,
    /// `burst` set with the fixed-window algorithm, which has no bucket.
    BurstFixedWindow,
    MaxKeys,
    Ipv6Prefix,
}

impl ConfigError {
    /// The `ERR_QERRORS_*` code JS sees.
    pub fn code(self) -> &'static str {
        match self {
            Self::Limit => "ERR_QERRORS_INVALID_LIMIT",
            Self::Window => "ERR_QERRORS_INVALID_WINDOW",
            Self::Burst | Self::BurstFixedWindow => "ERR_QERRORS_INVALID_BURST",
            Self::MaxKeys => "ERR_QERRORS_INVALID_MAX_KEYS",
            Self::Ipv6Prefix => "ERR_QERRORS_INVALID_IPV6_SUBNET",
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Limit => write!(f, "limit must be an integer from 1 to {MAX_LIMIT}"),
            Self::Window => write!(
                f,
                "windowMs must be an integer from 1 to {MAX_WINDOW_MS} (about 24.8 days)"
            ),
            Self::Burst => write!(f, "burst must be an integer from 1 to {MAX_LIMIT}"),
            Self::BurstFixedWindow => {
                write!(
                    f,
                    "burst applies to algorithm 'gcra' only (a fixed window has no bucket)"
                )
            }
            Self::MaxKeys => write!(f, "maxKeys must be an integer from 1 to {MAX_KEYS}"),
            Self::Ipv6Prefix => write!(f, "ipv6Subnet must be an integer from 1 to 128"),
        }
    }
}

impl std::error::Error for ConfigError {}

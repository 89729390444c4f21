//! Circuit breaker state machine: closed, open, half-open.
//!
//! Opening rules, both evaluated on every failure recorded while closed:
//! - error percentage over a rolling window of `rolling_count_buckets` buckets covering
//!   `rolling_count_timeout_ms`: opens when at least `volume_threshold` results were
//!   recorded since the last close and the failed share exceeds
//!   `error_threshold_percentage` (opossum's rule; `None` disables it);
//! - `failure_threshold` consecutive failures (the qerrors spec's meaning; 0 disables it).
//!
//! With `window_rule` (opossum's reading of the percentage rule) the rule's input is the
//! whole window instead: every fire (rejects included) and every failure still in the
//! window, whether or not the breaker closed since. `warm_up_ms` keeps both rules off for
//! that long after creation. `manual_rotation` moves the window only on
//! [`CircuitBreaker::rotate_bucket`] (an external clock such as an event emitter).
//!
//! After `reset_timeout_ms` in the open state the breaker turns half-open, observed lazily
//! by the next [`CircuitBreaker::try_acquire`] or [`CircuitBreaker::state`]. Half-open admits
//! at most `half_open_max_probes` calls at a time: each gets a probe [`Permit`]. The first
//! probe result decides: success closes, failure or timeout re-opens. Results of calls
//! admitted earlier (stale results) are counted in the stats but never move the state, so
//! a slow call admitted while closed cannot close a breaker that is probing.
//!
//! Everything is `&self` behind one mutex (uncontended on the JS thread, short critical
//! sections), so the type is `Send + Sync` and the AI pipeline shares it between tokio
//! threads. Counters the JS facade reads without a call are mirrored into [`Published`].
//!
//! Layout: [`options`] (configuration and its ranges), [`histogram`] (latency bins),
//! [`window`] (the rolling buckets and their statistics), [`published`] (the lock-free
//! mirror JS reads), [`machine`] (the state machine itself).

mod histogram;
mod machine;
#[cfg(test)]
mod model;
mod options;
mod published;
#[cfg(test)]
mod tests;
mod window;

pub use machine::CircuitBreaker;
pub use options::{BreakerOptions, MAX_BUCKETS, MAX_DURATION_MS};
pub use published::{slot, Published};
pub use window::{Counter, Stats, PERCENTILES};

/// Breaker state; the discriminants are the codes the JS facade reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
}

/// The result of one admitted call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    /// A failure that also counts as a timeout.
    Timeout,
}

/// The right to run one call, returned by [`CircuitBreaker::try_acquire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit {
    /// Clock time of admission, for latency.
    pub start_ms: u64,
    /// 0 for a normal call; otherwise the half-open epoch (1..=[`MAX_EPOCH`]) it probes.
    pub probe: u16,
}

/// Half-open epochs cycle through 1..=MAX_EPOCH, so a permit fits a JS number with its time.
pub const MAX_EPOCH: u16 = 2047;

//! Check outcomes, failures and the outage detector.

use super::*;

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

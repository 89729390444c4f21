//! Time sources. Everything timed takes a [`Clock`] so tests can drive a [`FakeClock`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// A monotonic millisecond clock.
pub trait Clock: Send + Sync {
    /// Milliseconds since an arbitrary fixed origin; never decreases.
    fn now_ms(&self) -> u64;
}

/// Shared handle to a clock.
pub type SharedClock = Arc<dyn Clock>;

/// The real monotonic clock, measured from the first use in this process.
#[derive(Debug, Default, Clone, Copy)]
pub struct MonotonicClock;

fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

impl Clock for MonotonicClock {
    fn now_ms(&self) -> u64 {
        origin().elapsed().as_millis() as u64
    }
}

/// A clock that moves only when told to. For tests and deterministic benchmarks.
#[derive(Debug, Default)]
pub struct FakeClock {
    now: AtomicU64,
}

impl FakeClock {
    /// A fake clock starting at `start_ms`.
    pub fn new(start_ms: u64) -> Self {
        Self {
            now: AtomicU64::new(start_ms),
        }
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock; ignored if it would move backwards.
    pub fn set(&self, ms: u64) {
        self.now.fetch_max(ms, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}

/// The process-wide real clock as a shared handle.
pub fn monotonic() -> SharedClock {
    Arc::new(MonotonicClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_clock_moves_only_forward() {
        let c = FakeClock::new(100);
        c.advance(50);
        assert_eq!(c.now_ms(), 150);
        c.set(120);
        assert_eq!(c.now_ms(), 150);
        c.set(400);
        assert_eq!(c.now_ms(), 400);
    }

    #[test]
    fn monotonic_clock_never_decreases() {
        let c = MonotonicClock;
        let a = c.now_ms();
        let b = c.now_ms();
        assert!(b >= a);
    }
}

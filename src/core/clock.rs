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

/// A millisecond clock read from `CLOCK_MONOTONIC_COARSE` on Linux: about 7 ns per read
/// instead of 30-80 ns, with the kernel tick as resolution (1-4 ms). A coarse reading
/// can only be late, so a limiter refills up to one tick late and a TTL ends up to one
/// tick late, never early. Elsewhere it falls back to [`MonotonicClock`].
#[derive(Debug, Clone, Copy)]
pub struct CoarseClock {
    origin_ms: u64,
}

impl CoarseClock {
    pub fn new() -> Self {
        Self {
            origin_ms: coarse_raw_ms(),
        }
    }
}

impl Default for CoarseClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for CoarseClock {
    #[inline]
    fn now_ms(&self) -> u64 {
        coarse_raw_ms().saturating_sub(self.origin_ms)
    }
}

#[cfg(target_os = "linux")]
#[inline]
fn coarse_raw_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC_COARSE exists on every
    // Linux since 2.6.32 and the call only writes into `ts`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    if rc != 0 {
        return MonotonicClock.now_ms();
    }
    (ts.tv_sec as u64) * 1000 + (ts.tv_nsec as u64) / 1_000_000
}

#[cfg(not(target_os = "linux"))]
#[inline]
fn coarse_raw_ms() -> u64 {
    MonotonicClock.now_ms()
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
    fn coarse_clock_follows_real_time() {
        // Real time, not a fake: this checks the kernel clock is wired up, with a
        // tolerance of a few coarse ticks.
        let c = CoarseClock::new();
        let a = c.now_ms();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(c.now_ms() >= a + 10);
    }

    #[test]
    fn monotonic_clock_never_decreases() {
        let c = MonotonicClock;
        let a = c.now_ms();
        let b = c.now_ms();
        assert!(b >= a);
    }
}

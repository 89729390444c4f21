//! Breaker configuration and the ranges it accepts.

/// Configuration. [`BreakerOptions::validate`] checks the ranges.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerOptions {
    pub reset_timeout_ms: u64,
    pub rolling_count_timeout_ms: u64,
    pub rolling_count_buckets: u32,
    pub error_threshold_percentage: Option<f64>,
    pub volume_threshold: u32,
    pub failure_threshold: u32,
    pub half_open_max_probes: u32,
    /// The percentage rule reads the whole window (opossum) instead of the results since
    /// the last close.
    pub window_rule: bool,
    /// The window moves only on [`super::CircuitBreaker::rotate_bucket`].
    pub manual_rotation: bool,
    /// No rule opens the breaker during this long after creation (opossum's warm-up).
    pub warm_up_ms: u64,
}

impl Default for BreakerOptions {
    fn default() -> Self {
        Self {
            reset_timeout_ms: 30_000,
            rolling_count_timeout_ms: 60_000,
            rolling_count_buckets: 10,
            error_threshold_percentage: Some(50.0),
            volume_threshold: 10,
            failure_threshold: 5,
            half_open_max_probes: 1,
            window_rule: false,
            manual_rotation: false,
            warm_up_ms: 0,
        }
    }
}

/// Most buckets a window may have (each carries a latency histogram).
pub const MAX_BUCKETS: u32 = 1000;
/// Longest time accepted for any duration option: about 24.8 days, setTimeout's limit.
pub const MAX_DURATION_MS: u64 = 2_147_483_647;

impl BreakerOptions {
    /// Checks every range; the error names the option and the accepted range.
    pub fn validate(&self) -> Result<(), String> {
        // 0 is accepted (opossum): the breaker turns half-open as soon as it is looked at.
        if self.reset_timeout_ms > MAX_DURATION_MS {
            return Err(format!(
                "resetTimeout must be between 0 and {MAX_DURATION_MS} ms"
            ));
        }
        if self.warm_up_ms > MAX_DURATION_MS {
            return Err(format!("warmUp must be between 0 and {MAX_DURATION_MS} ms"));
        }
        if self.rolling_count_timeout_ms == 0 || self.rolling_count_timeout_ms > MAX_DURATION_MS {
            return Err(format!(
                "rollingCountTimeout must be between 1 and {MAX_DURATION_MS} ms"
            ));
        }
        if self.rolling_count_buckets == 0 || self.rolling_count_buckets > MAX_BUCKETS {
            return Err(format!(
                "rollingCountBuckets must be an integer between 1 and {MAX_BUCKETS}"
            ));
        }
        if u64::from(self.rolling_count_buckets) > self.rolling_count_timeout_ms {
            return Err("rollingCountBuckets must not exceed rollingCountTimeout (ms)".into());
        }
        if let Some(p) = self.error_threshold_percentage {
            if !(0.0..=100.0).contains(&p) {
                return Err("errorThresholdPercentage must be between 0 and 100".into());
            }
        }
        if self.half_open_max_probes == 0 {
            return Err("halfOpenMaxProbes must be a positive integer".into());
        }
        Ok(())
    }
}

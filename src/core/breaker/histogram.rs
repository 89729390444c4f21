//! Latency histogram bins: a fixed number per bucket, so memory does not grow with traffic.

/// Latency histogram: exact below 64 ms, then 8 bins per power of two (about 6 % wide).
pub(super) const HIST_EXACT: u64 = 64;
pub(super) const HIST_SUB: u64 = 8;
pub(super) const HIST_MAX_EXP: u32 = 40;
pub(super) const HIST_BINS: usize = (HIST_EXACT + (HIST_MAX_EXP as u64 - 5) * HIST_SUB) as usize;

/// The bin of a latency in ms.
pub(super) fn hist_bin(ms: u64) -> usize {
    let v = ms.min((1u64 << (HIST_MAX_EXP + 1)) - 1);
    if v < HIST_EXACT {
        return v as usize;
    }
    let e = 63 - v.leading_zeros() as u64; // 6..=HIST_MAX_EXP
    let sub = (v >> (e - 3)) & (HIST_SUB - 1);
    (HIST_EXACT + (e - 6) * HIST_SUB + sub) as usize
}

/// The value a bin stands for: its exact value below 64 ms, else its middle.
pub(super) fn hist_value(bin: usize) -> f64 {
    let b = bin as u64;
    if b < HIST_EXACT {
        return b as f64;
    }
    let e = (b - HIST_EXACT) / HIST_SUB + 6;
    let sub = (b - HIST_EXACT) % HIST_SUB;
    let lo = (HIST_SUB + sub) << (e - 3);
    let width = 1u64 << (e - 3);
    lo as f64 + (width - 1) as f64 / 2.0
}

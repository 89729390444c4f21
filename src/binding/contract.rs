//! The contract between the JS facades and the addon, defined once, here: slot layouts,
//! protocol letters and bounds that both sides must agree on, and the `ERR_QERRORS_*`
//! codes Rust throws.
//!
//! JS does not copy these numbers. `lib/native/contract.js` is generated from
//! [`render_js`] and committed; the test `contract_js_is_current` fails when the file is
//! stale (regenerate with `UPDATE_CONTRACT=1 cargo test --release contract`). Why a
//! committed file rather than an export read at load: the facades need these constants
//! before (and without) loading the addon, as plain literals V8 can fold into the
//! per-call code; see docs/native-contract.md.

use crate::core::ai::pipeline::{MAX_MESSAGE_UNITS, MAX_STACK_UNITS};
use crate::core::breaker::{slot, Counter};

/// `submit` of the AI pipeline returns one string: a status letter, the 16-hex-digit
/// fingerprint, then advice JSON when the call asked for it.
pub mod ai_submit {
    /// Advice was cached.
    pub const CACHED: char = 'c';
    /// New offline advice, ready now.
    pub const READY: char = 'r';
    /// An analysis was scheduled.
    pub const SCHEDULED: char = 's';
    /// Joined an identical analysis in flight.
    pub const JOINED: char = 'j';
    /// Refused: queue full, breaker open, or this error failed recently.
    pub const REJECTED: char = 'x';
    /// The pipeline is shut down.
    pub const CLOSED: char = 'z';
    /// Hex digits of the fingerprint after the letter.
    pub const HEX_DIGITS: usize = 16;
    /// `want` argument: no advice text.
    pub const WANT_NONE: i32 = 0;
    /// `want` argument: new offline advice only.
    pub const WANT_NEW: i32 = 1;
    /// `want` argument: cached advice too.
    pub const WANT_ALL: i32 = 2;
}

/// The Redis store's completions: `SLOTS` doubles each in the results `Float64Array`
/// (id, flags, remaining, retry-after ms, reset ms, denied hits), and the flag bits.
pub mod redis_results {
    pub const SLOTS: usize = 6;
    /// Completion flag: the check was allowed.
    pub const ALLOWED: u32 = 1;
    /// Completion flag: no quota was set before the check.
    pub const NO_QUOTA: u32 = 4;
    /// `submit` flag: count a denied hit (the Store interface).
    pub const COUNT_DENIED: u32 = 1;
}

/// The cache's removal report, an `Int32Array` the native side writes after each call:
/// `HEADER` numbers (the count shown, the count still waiting for `drain()`), then
/// `(slot, reason)` pairs, at most `PAIRS`; the reason codes.
pub mod cache_report {
    pub const HEADER: usize = 2;
    pub const PAIRS: usize = 64;
    pub const EVICT: i32 = 0;
    pub const EXPIRE: i32 = 1;
    pub const SET: i32 = 2;
    pub const DELETE: i32 = 3;
}

/// Every `ERR_QERRORS_*` code the addon throws (the test
/// `every_thrown_code_is_listed` keeps this list complete); docs/api.md says what each means.
pub const ERROR_CODES: &[&str] = &[
    "ERR_QERRORS_AI_OPTION",
    "ERR_QERRORS_AI_RUNTIME",
    "ERR_QERRORS_CACHE_INVALID_OPTION",
    "ERR_QERRORS_CACHE_INVALID_VALUE",
    "ERR_QERRORS_CACHE_UNBOUNDED",
    "ERR_QERRORS_INTERNAL",
    "ERR_QERRORS_INVALID_ARG",
    "ERR_QERRORS_INVALID_BATCH",
    "ERR_QERRORS_INVALID_BURST",
    "ERR_QERRORS_INVALID_COST",
    "ERR_QERRORS_INVALID_IPV6_SUBNET",
    "ERR_QERRORS_INVALID_KEY",
    "ERR_QERRORS_INVALID_LIMIT",
    "ERR_QERRORS_INVALID_MAX_KEYS",
    "ERR_QERRORS_INVALID_OPTION",
    "ERR_QERRORS_INVALID_STATE",
    "ERR_QERRORS_INVALID_TICKET",
    "ERR_QERRORS_INVALID_WINDOW",
    "ERR_QERRORS_JSON_OPTION",
    "ERR_QERRORS_JSON_POINTER",
    "ERR_QERRORS_PANIC",
    "ERR_QERRORS_RANDOM",
    "ERR_QERRORS_REDIS_INSURANCE",
    "ERR_QERRORS_REDIS_MAX_IN_FLIGHT",
    "ERR_QERRORS_REDIS_PROBE_INTERVAL",
    "ERR_QERRORS_REDIS_TIMEOUT",
    "ERR_QERRORS_REDIS_URL",
];

/// The breaker's published slots, by the names JS uses.
const BREAKER_SLOTS: &[(&str, usize)] = &[
    ("STATE", slot::STATE),
    ("TRANSITIONS", slot::TRANSITIONS),
    ("FIRES", slot::FIRES),
    ("SUCCESSES", slot::SUCCESSES),
    ("FAILURES", slot::FAILURES),
    ("TIMEOUTS", slot::TIMEOUTS),
    ("REJECTS", slot::REJECTS),
    ("FALLBACKS", slot::FALLBACKS),
    ("LATENCY_SUM", slot::LATENCY_SUM),
    ("LAST_SUCCESS_MS", slot::LAST_SUCCESS_MS),
    ("LAST_FAILURE_MS", slot::LAST_FAILURE_MS),
    ("CONSECUTIVE_FAILURES", slot::CONSECUTIVE_FAILURES),
    ("OPENED_AT_MS", slot::OPENED_AT_MS),
    ("WINDOW", slot::WINDOW),
    ("WINDOW_EXTRA", slot::WINDOW_EXTRA),
    ("WINDOW_OPEN_FLAG", slot::WINDOW_OPEN_FLAG),
    ("LEN", slot::LEN),
];

fn group(out: &mut String, name: &str, doc: &str, entries: &[(&str, String)]) {
    out.push_str(&format!("  /** {doc} */\n  {name}: Object.freeze({{\n"));
    for (k, v) in entries {
        out.push_str(&format!("    {k}: {v},\n"));
    }
    out.push_str("  }),\n");
}

/// The JS name of a window counter (a new counter fails to compile until it has one).
fn counter_name(c: Counter) -> &'static str {
    match c {
        Counter::Fires => "FIRES",
        Counter::Successes => "SUCCESSES",
        Counter::Failures => "FAILURES",
        Counter::Timeouts => "TIMEOUTS",
        Counter::Rejects => "REJECTS",
        Counter::Fallbacks => "FALLBACKS",
        Counter::CacheHits => "CACHE_HITS",
        Counter::CacheMisses => "CACHE_MISSES",
        Counter::CoalesceCacheHits => "COALESCE_CACHE_HITS",
        Counter::CoalesceCacheMisses => "COALESCE_CACHE_MISSES",
        Counter::SemaphoreRejections => "SEMAPHORE_REJECTIONS",
    }
}

fn num(x: impl ToString) -> String {
    x.to_string()
}

fn letter(c: char) -> String {
    format!("'{c}'")
}

/// The text of `lib/native/contract.js`.
pub fn render_js() -> String {
    let mut out = String::from(
        "'use strict';\n\n\
         // GENERATED from src/binding/contract.rs: do not edit. Regenerate with\n\
         // `UPDATE_CONTRACT=1 cargo test --release contract`; `cargo test` fails when this\n\
         // file is stale. See docs/native-contract.md.\n\n\
         module.exports = Object.freeze({\n",
    );
    let slots: Vec<(&str, String)> = BREAKER_SLOTS.iter().map(|(k, v)| (*k, num(v))).collect();
    group(
        &mut out,
        "breakerSlots",
        "Slots of the breaker's shared Float64Array (window statistics from WINDOW on, the five extra counters from WINDOW_EXTRA, then the bucket's open flag).",
        &slots,
    );
    let counters: Vec<(&str, String)> = Counter::ALL
        .iter()
        .map(|c| (counter_name(*c), num(*c as usize)))
        .collect();
    group(
        &mut out,
        "breakerCounters",
        "Indices of the breaker's window counters, as `bump(counter, n)` takes them.",
        &counters,
    );
    use ai_submit as a;
    group(
        &mut out,
        "aiSubmit",
        "The AI submit result: status letter, HEX_DIGITS of fingerprint, advice JSON.",
        &[
            ("CACHED", letter(a::CACHED)),
            ("READY", letter(a::READY)),
            ("SCHEDULED", letter(a::SCHEDULED)),
            ("JOINED", letter(a::JOINED)),
            ("REJECTED", letter(a::REJECTED)),
            ("CLOSED", letter(a::CLOSED)),
            ("HEX_DIGITS", num(a::HEX_DIGITS)),
            ("WANT_NONE", num(a::WANT_NONE)),
            ("WANT_NEW", num(a::WANT_NEW)),
            ("WANT_ALL", num(a::WANT_ALL)),
            ("MAX_MESSAGE_UNITS", num(MAX_MESSAGE_UNITS)),
            ("MAX_STACK_UNITS", num(MAX_STACK_UNITS)),
        ],
    );
    group(
        &mut out,
        "redisResults",
        "The Redis store's completion records and flag bits.",
        &[
            ("SLOTS", num(redis_results::SLOTS)),
            ("ALLOWED", num(redis_results::ALLOWED)),
            ("NO_QUOTA", num(redis_results::NO_QUOTA)),
            ("COUNT_DENIED", num(redis_results::COUNT_DENIED)),
        ],
    );
    group(
        &mut out,
        "cacheReport",
        "The cache's removal report (src/binding/cache.rs, lib/native/cache/removals.js).",
        &[
            ("HEADER", num(cache_report::HEADER)),
            ("PAIRS", num(cache_report::PAIRS)),
            ("EVICT", num(cache_report::EVICT)),
            ("EXPIRE", num(cache_report::EXPIRE)),
            ("SET", num(cache_report::SET)),
            ("DELETE", num(cache_report::DELETE)),
        ],
    );
    let codes: Vec<(&str, String)> = ERROR_CODES
        .iter()
        .map(|c| (c.trim_start_matches("ERR_QERRORS_"), format!("'{c}'")))
        .collect();
    group(
        &mut out,
        "errorCodes",
        "The ERR_QERRORS_* codes the addon throws, by their short names.",
        &codes,
    );
    out.push_str("});\n");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::path::Path;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    /// The committed JS copy is exactly what Rust renders now.
    #[test]
    fn contract_js_is_current() {
        let path = root().join("lib/native/contract.js");
        let want = render_js();
        if std::env::var_os("UPDATE_CONTRACT").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "lib/native/contract.js is stale: run `UPDATE_CONTRACT=1 cargo test --release contract`"
        );
    }

    /// Every `ERR_QERRORS_*` literal under src/ is in [`ERROR_CODES`], and every listed
    /// code is still used somewhere.
    #[test]
    fn every_thrown_code_is_listed() {
        let mut found = std::collections::BTreeSet::new();
        let mut dirs = vec![root().join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") || path.ends_with("contract.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, _) in text.match_indices("\"ERR_QERRORS_") {
                    let rest = &text[i + 1..];
                    let end = rest.find('"').unwrap();
                    found.insert(rest[..end].to_owned());
                }
            }
        }
        let listed: std::collections::BTreeSet<String> =
            ERROR_CODES.iter().map(|c| (*c).to_owned()).collect();
        let missing: Vec<_> = found.difference(&listed).collect();
        assert!(
            missing.is_empty(),
            "codes thrown but not in ERROR_CODES: {missing:?}"
        );
        let unused: Vec<_> = listed.difference(&found).collect();
        assert!(
            unused.is_empty(),
            "codes listed but never thrown: {unused:?}"
        );
    }
}

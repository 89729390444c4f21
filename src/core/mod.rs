//! Plain Rust logic, free of napi types so it can be tested with `cargo test`.

pub mod ai;
pub mod breaker;
pub mod cache;
pub mod clock;
pub mod error_log;
pub mod fingerprint;
#[cfg(test)]
mod fuzz;
pub mod json;
pub mod line_memo;
pub mod rate_limit;
pub mod redis;
pub mod sanitize;

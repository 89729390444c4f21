//! The napi layer: argument checks, conversions and classes. Thin by design.

pub mod ai;
pub mod breaker;
pub mod cache;
pub mod contract;
pub mod error_path;
pub mod errors;
pub mod json;
pub mod keys;
pub mod options;
pub mod random;
pub mod rate_limit;
pub mod raw;
pub mod redis_store;
pub mod sanitize;
pub mod version;

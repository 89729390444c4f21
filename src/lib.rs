//! Native core of qerrors.
//!
//! `core` holds plain Rust (no napi types), unit-tested with `cargo test`;
//! `binding` is the thin napi layer that exposes it to JavaScript.

#![deny(clippy::unwrap_used)]

pub mod binding;
pub mod core;

//! Background AI analysis of errors: one call per error from JS, everything else here.
//!
//! `pipeline` runs the flow (fingerprint, redact, cache, de-duplicate, bound, rate-limit,
//! circuit breaker, HTTP, parse, cache, notify); `providers` builds the OpenAI-compatible and
//! Gemini request bodies and parses their answers; `client` is the HTTP client with timeouts,
//! retries and a body cap; `prompt` builds the prompt; `advisor` is the built-in offline
//! advisor used when no API key is configured; `deps` wires in the shared advice cache,
//! limiter, circuit breaker and redaction (`providers` uses the shared JSON scanner).

pub mod advisor;
pub mod client;
pub mod config;
pub mod deps;
pub mod pipeline;
pub mod prompt;
pub mod providers;

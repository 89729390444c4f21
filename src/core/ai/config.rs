//! Pipeline configuration. The JS configuration module reads the environment and resolves
//! every value; `binding::ai` checks the settings it passes and builds an [`AiConfig`].
//! Nothing here holds a default for production: the `Default` impls below exist for unit
//! tests only.

/// Which model answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// No API key configured: the built-in advisor answers and nothing leaves the process.
    Offline,
    /// An OpenAI-compatible chat completions endpoint.
    OpenAi,
    /// Google Gemini `generateContent`.
    Gemini,
}

impl Provider {
    /// The `source` field of advice from this provider.
    pub fn source(self) -> &'static str {
        match self {
            Provider::Offline => "offline",
            Provider::OpenAi => "openai",
            Provider::Gemini => "gemini",
        }
    }
}

/// Retry policy for provider calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (`QERRORS_RETRY_ATTEMPTS`).
    pub retries: u32,
    /// First backoff delay (`QERRORS_RETRY_BASE_MS`); doubles per retry.
    pub base_ms: u64,
    /// Cap on a computed backoff delay (`QERRORS_RETRY_MAX_MS`).
    pub max_ms: u64,
    /// Cap on a delay the server asks for through `retry-after(-ms)`.
    pub retry_after_max_ms: u64,
}

#[cfg(test)]
impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retries: 2,
            base_ms: 100,
            max_ms: 2000,
            retry_after_max_ms: 30_000,
        }
    }
}

/// Everything the pipeline needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct AiConfig {
    pub provider: Provider,
    pub api_key: String,
    /// Full endpoint URL; for Gemini the model is already part of it.
    pub url: String,
    pub model: String,
    pub max_tokens: u32,
    /// Ask an OpenAI model for a JSON object (`response_format`).
    pub json_mode: bool,
    /// Total time for one attempt, connect included (`QERRORS_TIMEOUT`).
    pub timeout_ms: u64,
    pub connect_timeout_ms: u64,
    pub retry: RetryPolicy,
    /// Analyses running at once (`QERRORS_CONCURRENCY`).
    pub concurrency: usize,
    /// Analyses waiting for a slot (`QERRORS_QUEUE_LIMIT`); more are rejected and counted.
    pub queue_limit: usize,
    /// Advice cache entries (`QERRORS_CACHE_LIMIT`); 0 disables the cache.
    pub cache_limit: usize,
    pub cache_ttl_ms: u64,
    /// Largest provider response read, in bytes.
    pub max_response_bytes: usize,
    /// Provider calls allowed in a burst and refilled per second; `None` disables the limit.
    pub rate_limit: Option<(u32, f64)>,
    /// Consecutive failed analyses that open the breaker.
    pub breaker_threshold: u32,
    /// How long the breaker stays open before one trial call is let through.
    pub breaker_reset_ms: u64,
    /// How long an error whose analysis failed is not analysed again (0: always retry).
    pub failure_ttl_ms: u64,
    /// Share the advice cache and in-flight markers through this Redis
    /// (`QERRORS_REDIS_URL`), so several processes make one provider call per error.
    pub redis_url: Option<String>,
}

/// A baseline for unit tests; production values always come from JS.
#[cfg(test)]
impl Default for AiConfig {
    fn default() -> Self {
        Self {
            provider: Provider::Offline,
            api_key: String::new(),
            url: String::new(),
            model: String::new(),
            max_tokens: 4096,
            json_mode: false,
            timeout_ms: 10_000,
            connect_timeout_ms: 5_000,
            retry: RetryPolicy::default(),
            concurrency: 5,
            queue_limit: 100,
            cache_limit: 50,
            cache_ttl_ms: 86_400_000,
            max_response_bytes: 1 << 20,
            rate_limit: Some((30, 0.5)),
            breaker_threshold: 5,
            breaker_reset_ms: 30_000,
            failure_ttl_ms: 60_000,
            redis_url: None,
        }
    }
}

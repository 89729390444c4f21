//! HTTP client for provider calls: reqwest on tokio with rustls (ring), one pooled client per
//! pipeline (connections are reused), a total timeout per attempt, a cap on the response
//! body read incrementally, and retries with exponential backoff and jitter.
//!
//! Retried: 408, 409, 429, 5xx, timeouts and network errors. Never retried: other statuses
//! (400, 401, 403, 404, …) and a body over the cap, which would fail again the same way.
//! A `retry-after-ms` or `retry-after` (seconds or HTTP date) answer sets the delay, capped.
//!
//! Redirects are never followed: a 3xx answer is a provider error (`CallError::Redirect`,
//! not retried). Following one would re-send the prompt, and with Gemini the
//! `x-goog-api-key` header, to whatever host the answer names (another server, a cloud
//! metadata address such as 169.254.169.254); a provider endpoint has no reason to redirect.

use std::time::{Duration, SystemTime};

use super::config::RetryPolicy;
use super::providers::ProviderRequest;

/// Why a provider call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The server answered with this non-2xx status.
    Status(u16),
    /// The attempt took longer than the timeout (connect, headers or body).
    Timeout,
    /// Connection refused or reset, DNS failure, TLS failure, broken body…
    Network(String),
    /// The response body is larger than the cap.
    TooLarge,
    /// The server answered with this 3xx status; redirects are never followed.
    Redirect(u16),
}

impl CallError {
    /// Whether another attempt may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            CallError::Status(s) => matches!(s, 408 | 409 | 429) || (500..600).contains(s),
            CallError::Timeout | CallError::Network(_) => true,
            CallError::TooLarge | CallError::Redirect(_) => false,
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Status(s) => write!(f, "provider answered HTTP {s}"),
            CallError::Timeout => f.write_str("provider call timed out"),
            CallError::Network(e) => write!(f, "provider call failed: {e}"),
            CallError::TooLarge => f.write_str("provider response is larger than the cap"),
            CallError::Redirect(s) => write!(
                f,
                "provider answered a redirect (HTTP {s}); redirects are not followed, configure the final URL"
            ),
        }
    }
}

/// A pooled HTTP client with the pipeline's retry policy.
pub struct HttpClient {
    client: reqwest::Client,
    retry: RetryPolicy,
    timeout: Duration,
    max_body: usize,
}

impl HttpClient {
    pub fn new(
        retry: RetryPolicy,
        timeout_ms: u64,
        connect_timeout_ms: u64,
        max_body: usize,
        pool_size: usize,
    ) -> Result<Self, String> {
        // reqwest is built without a default crypto provider (aws-lc-rs costs a minute of
        // build time); rustls panics without one, so install ring's once per process. An
        // error only means some provider is already installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let timeout = Duration::from_millis(timeout_ms.max(1));
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(
                connect_timeout_ms.clamp(1, timeout_ms.max(1)),
            ))
            .timeout(timeout)
            .pool_max_idle_per_host(pool_size.max(1))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("qerrors/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            retry,
            timeout,
            max_body,
        })
    }

    /// Sends `req`, retrying as the policy allows. `on_attempt` runs before every attempt.
    pub async fn send(
        &self,
        req: &ProviderRequest,
        on_attempt: &(dyn Fn() + Sync),
    ) -> Result<Vec<u8>, CallError> {
        let mut retry = 0;
        loop {
            on_attempt();
            let (err, hint) = match self.attempt(req).await {
                Ok(body) => return Ok(body),
                Err(e) => e,
            };
            if retry >= self.retry.retries || !err.retryable() {
                return Err(err);
            }
            let delay = match hint {
                Some(ms) => ms.min(self.retry.retry_after_max_ms),
                None => backoff_ms(&self.retry, retry, fastrand::f64()),
            };
            tokio::time::sleep(Duration::from_millis(delay)).await;
            retry += 1;
        }
    }

    async fn attempt(&self, req: &ProviderRequest) -> Result<Vec<u8>, (CallError, Option<u64>)> {
        let mut rb = self.client.post(&req.url).body(req.body.clone());
        for (k, v) in &req.headers {
            rb = rb.header(*k, v);
        }
        let work = async {
            let mut resp = rb.send().await.map_err(|e| (classify(e), None))?;
            let status = resp.status().as_u16();
            if (300..400).contains(&status) {
                return Err((CallError::Redirect(status), None));
            }
            if !(200..300).contains(&status) {
                let h = resp.headers();
                let hint = retry_after_ms(
                    h.get("retry-after-ms").and_then(|v| v.to_str().ok()),
                    h.get("retry-after").and_then(|v| v.to_str().ok()),
                    SystemTime::now(),
                );
                return Err((CallError::Status(status), hint));
            }
            let declared = resp.content_length().unwrap_or(0);
            if declared > self.max_body as u64 {
                return Err((CallError::TooLarge, None));
            }
            let mut body = Vec::with_capacity(declared as usize);
            while let Some(chunk) = resp.chunk().await.map_err(|e| (classify(e), None))? {
                if body.len() + chunk.len() > self.max_body {
                    return Err((CallError::TooLarge, None));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .unwrap_or(Err((CallError::Timeout, None)))
    }
}

/// The error without its URL: a URL can carry a key in its query string, and these messages
/// reach `stats().lastError`.
fn classify(e: reqwest::Error) -> CallError {
    if e.is_timeout() {
        return CallError::Timeout;
    }
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    CallError::Network(msg)
}

/// The delay before retry number `retry` (0-based): `base * 2^retry` capped at `max`, then
/// "equal jitter": half of it fixed, half random (`rand` in `[0, 1)`), so concurrent
/// clients spread out without ever retrying immediately.
pub fn backoff_ms(policy: &RetryPolicy, retry: u32, rand: f64) -> u64 {
    let exp = policy
        .base_ms
        .saturating_mul(1u64 << retry.min(32))
        .min(policy.max_ms);
    let half = exp / 2;
    half + ((exp - half) as f64 * rand.clamp(0.0, 1.0)) as u64
}

/// The delay a server asks for, in ms: `retry-after-ms` (milliseconds) first, then
/// `retry-after` as seconds or as an HTTP date (a date in the past means now).
pub fn retry_after_ms(ms: Option<&str>, after: Option<&str>, now: SystemTime) -> Option<u64> {
    let non_negative = |v: f64| (v.is_finite() && v >= 0.0).then_some(v);
    if let Some(v) = ms
        .and_then(|s| s.trim().parse::<f64>().ok())
        .and_then(non_negative)
    {
        return Some(v.ceil() as u64);
    }
    let after = after?.trim();
    if let Ok(secs) = after.parse::<f64>() {
        return non_negative(secs).map(|s| (s * 1000.0).ceil() as u64);
    }
    let at = httpdate::parse_http_date(after).ok()?;
    Some(at.duration_since(now).map_or(0, |d| d.as_millis() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after_ms(Some("250"), Some("9"), now), Some(250));
        assert_eq!(retry_after_ms(Some("12.2"), None, now), Some(13));
        assert_eq!(retry_after_ms(None, Some("2"), now), Some(2000));
        assert_eq!(retry_after_ms(None, Some(" 0.5 "), now), Some(500));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(3));
        assert_eq!(retry_after_ms(None, Some(&date), now), Some(3000));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(3));
        assert_eq!(retry_after_ms(None, Some(&past), now), Some(0));
        assert_eq!(retry_after_ms(Some("soon"), Some("-1"), now), None);
        assert_eq!(retry_after_ms(Some("nope"), Some("later"), now), None);
        assert_eq!(retry_after_ms(None, None, now), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_cap() {
        let p = RetryPolicy {
            retries: 5,
            base_ms: 100,
            max_ms: 1000,
            retry_after_max_ms: 5000,
        };
        assert_eq!(backoff_ms(&p, 0, 0.0), 50);
        assert_eq!(backoff_ms(&p, 0, 1.0), 100);
        assert_eq!(backoff_ms(&p, 2, 0.0), 200);
        assert_eq!(backoff_ms(&p, 2, 0.999), 399);
        assert_eq!(backoff_ms(&p, 10, 1.0), 1000);
        assert_eq!(backoff_ms(&p, 60, 0.0), 500);
    }

    #[test]
    fn which_errors_are_retried() {
        for s in [408, 409, 429, 500, 502, 503, 504] {
            assert!(CallError::Status(s).retryable(), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!CallError::Status(s).retryable(), "{s}");
        }
        assert!(CallError::Timeout.retryable());
        assert!(CallError::Network("reset".into()).retryable());
        assert!(!CallError::TooLarge.retryable());
        for s in [301, 302, 303, 307, 308] {
            assert!(!CallError::Redirect(s).retryable(), "{s}");
        }
    }
}

//! One scheduled analysis on a runtime thread: the Redis-shared cache, a slot, redaction,
//! the prompt, the rate limit, the circuit breaker, the HTTP call, parsing; and [`Settle`],
//! which ends it however its task ends.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::input::ErrorInput;
use super::stats::{bump, Gauge};
use super::{lock, Inner};
use crate::core::ai::client::HttpClient;
use crate::core::ai::config::Provider;
use crate::core::ai::prompt::build_prompt;
use crate::core::ai::providers::{build_request, extract_content, parse_advice};
use crate::core::fingerprint::to_hex;
use crate::core::redis::{HealthEvent, Shared};

/// While another process analyses the same error, how often this one looks for its advice.
const SHARED_POLL_MS: u64 = 25;

/// Largest advice document handed to JS; real advice is a few KB.
pub const MAX_ADVICE_BYTES: usize = 64 * 1024;

/// Ends one analysis when its task ends, however it ends (result, cancellation, or a panic
/// unwinding through the task): caches a result, leaves the in-flight set, and notifies, so
/// no JS promise can be left waiting.
pub(super) struct Settle {
    pub(super) inner: Arc<Inner>,
    pub(super) fp: u64,
    /// The advice, or whether the failure is remembered for `failure_ttl_ms` (a refusal by
    /// the breaker, a cancellation or a panic is not: the error itself is not at fault).
    pub(super) result: Result<Arc<str>, bool>,
}

impl Drop for Settle {
    fn drop(&mut self) {
        let inner = &self.inner;
        let result = std::mem::replace(&mut self.result, Err(false));
        let closed = inner.closed.load(Ordering::Acquire);
        match &result {
            Ok(advice) => inner.deps.cache_insert(self.fp, advice.clone()),
            Err(true) if !closed => inner.deps.mark_failed(self.fp),
            Err(_) => {}
        }
        lock(&inner.in_flight).remove(&self.fp);
        if !closed {
            inner.notifier.deliver(self.fp, result.ok());
        }
    }
}

impl Inner {
    /// Records a failed analysis; the error is remembered for `failure_ttl_ms`.
    fn fail(&self, why: String) -> Result<Arc<str>, bool> {
        bump(&self.counters.failed);
        *lock(&self.last_error) = Some(why);
        Err(true)
    }

    /// [`analyse`](Self::analyse) through the Redis-shared advice cache when configured:
    /// advice another process cached is used as is, and while another process analyses
    /// the same fingerprint this one waits for its advice instead of calling the provider
    /// too. A Redis outage degrades to analysing locally, with one log line per outage.
    pub(super) async fn analyse_shared(
        &self,
        fp: u64,
        input: &ErrorInput,
    ) -> Result<Arc<str>, bool> {
        let Some(shared) = self.deps.shared() else {
            return self.analyse(fp, input).await;
        };
        // The in-flight marker must outlive one whole analysis: every attempt's timeout
        // and the backoff between them, plus a margin.
        let attempts = u64::from(self.cfg.retry.retries) + 1;
        let lock_ms = self
            .cfg
            .timeout_ms
            .saturating_add(self.cfg.retry.max_ms)
            .saturating_mul(attempts)
            .saturating_add(1000);
        let mut events = Vec::new();
        // `analyse`'s error (whether the failure is remembered) survives the shared path.
        let mut failed = true;
        let got = shared
            .get_or_compute(
                &to_hex(fp),
                self.cfg.cache_ttl_ms,
                lock_ms,
                SHARED_POLL_MS,
                || async {
                    self.analyse(fp, input)
                        .await
                        .map_err(|remember| failed = remember)
                        .ok()
                },
                &mut events,
            )
            .await;
        for e in events {
            let line = e.message(&shared.conn().target(), "the local advice cache");
            eprintln!("{line}");
            if matches!(e, HealthEvent::Down(_)) {
                *lock(&self.last_error) = Some(line);
            }
        }
        match got {
            Some(Shared::Hit(advice)) => {
                bump(&self.counters.shared_hits);
                Ok(advice)
            }
            Some(Shared::Computed(advice)) => Ok(advice),
            None => Err(failed),
        }
    }

    async fn analyse(&self, fp: u64, input: &ErrorInput) -> Result<Arc<str>, bool> {
        let permit = {
            let _queued = Gauge::up(&self.counters.queued);
            self.slots.acquire().await.map_err(|_| false)?
        };
        let _running = Gauge::up(&self.counters.running);
        let r = &self.deps;
        let prompt = build_prompt(
            &r.redact(&input.name),
            &r.redact(&input.message),
            &r.redact(&input.context),
            &r.redact(&input.stack),
        );
        let Some(req) = build_request(&self.cfg, &prompt) else {
            return self.fail("no provider configured".into());
        };
        let built = self
            .client
            .get_or_init(|| async {
                let c = &self.cfg;
                HttpClient::new(
                    c.retry,
                    c.timeout_ms,
                    c.connect_timeout_ms,
                    c.max_response_bytes,
                    c.concurrency,
                )
            })
            .await;
        let client = match built {
            Ok(c) => c,
            Err(e) => return self.fail(format!("cannot build the HTTP client: {e}")),
        };
        while let Err(wait_ms) = self.deps.acquire_call() {
            bump(&self.counters.rate_limited);
            tokio::time::sleep(Duration::from_millis(wait_ms.min(60_000))).await;
        }
        let Some(breaker_permit) = self.deps.breaker_acquire() else {
            bump(&self.counters.breaker_rejected);
            *lock(&self.last_error) = Some("circuit breaker is open".into());
            return Err(false);
        };
        let sent = client
            .send(&req, &|| bump(&self.counters.provider_calls))
            .await;
        drop(permit);
        let body = match sent {
            Ok(b) => {
                self.deps.breaker_record(breaker_permit, true);
                b
            }
            Err(e) => {
                self.deps.breaker_record(breaker_permit, false);
                return self.fail(e.to_string());
            }
        };
        let parsed = extract_content(self.cfg.provider, &body).and_then(|c| parse_advice(&c));
        drop(body);
        match parsed {
            Ok(map) => match finalize(map, fp, self.cfg.provider) {
                Some(advice) => {
                    bump(&self.counters.succeeded);
                    Ok(advice)
                }
                None => self.fail("advice is larger than 64 KB".into()),
            },
            Err(e) => self.fail(e.to_string()),
        }
    }
}

/// The advice document: the model's object plus `fingerprint`, `source` and `createdAt`
/// (ms since the epoch). `None` when it exceeds [`MAX_ADVICE_BYTES`].
pub(super) fn finalize(
    mut map: Map<String, Value>,
    fp: u64,
    provider: Provider,
) -> Option<Arc<str>> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    map.insert("fingerprint".into(), Value::String(to_hex(fp)));
    map.insert("source".into(), Value::String(provider.source().into()));
    map.insert("createdAt".into(), Value::from(now));
    let text = Value::Object(map).to_string();
    (text.len() <= MAX_ADVICE_BYTES).then(|| Arc::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_documents_are_bounded() {
        let mut m = Map::new();
        m.insert("advice".into(), Value::String("x".repeat(MAX_ADVICE_BYTES)));
        assert!(finalize(m, 1, Provider::OpenAi).is_none());
    }
}

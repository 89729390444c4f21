//! `sanitizeRedact(text)`: the text rules of the redaction policy, for JS.
//!
//! `lib/policy/redaction.js` calls it for every string it redacts (through a cache of recent
//! results; docs/redaction.md). It returns `null` when nothing was redacted so an unchanged
//! string is never copied back into a new JS string.

use napi_derive::napi;

use crate::core::sanitize;

/// Redacts secrets with the text rules of `crate::core::sanitize`; `null` when unchanged.
#[napi(catch_unwind)]
pub fn sanitize_redact(text: String) -> Option<String> {
    match sanitize::redact(&text) {
        std::borrow::Cow::Borrowed(_) => None,
        std::borrow::Cow::Owned(s) => Some(s),
    }
}

//! `sanitizeRedact(text)`: the native redaction pass for large strings.
//!
//! `lib/policy/redaction.js` calls it only above a measured size, where one crossing costs
//! less than the JS regex passes (benchmark/sanitize.js). It returns `null` when nothing
//! was redacted so an unchanged string is never copied back into a new JS string.

use napi_derive::napi;

use crate::core::sanitize;

/// Redacts secrets with the same rules as `sanitizeMessage`; `null` when unchanged.
#[napi(catch_unwind)]
pub fn sanitize_redact(text: String) -> Option<String> {
    match sanitize::redact(&text) {
        std::borrow::Cow::Borrowed(_) => None,
        std::borrow::Cow::Owned(s) => Some(s),
    }
}

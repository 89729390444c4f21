//! An error as the pipeline takes it: borrowed at [`Pipeline::submit`](super::Pipeline::submit),
//! cut to the lengths JS slices it to, and owned once an analysis is scheduled.

/// How much of a message and a stack (in UTF-16 units, as JS counts) the pipeline uses,
/// the bounds `lib/native/ai.js` slices to: the fingerprint reads 2 KB of message and ten
/// frames, the prompt less. Callers that also redact the full strings pass them longer.
pub const MAX_MESSAGE_UNITS: usize = 4096;
pub const MAX_STACK_UNITS: usize = 8192;

/// The longest prefix of `s` of at most `max` UTF-16 units, cut on a char boundary: what
/// JS's `s.slice(0, max)` keeps, so fingerprints match those of JS-sliced input (except
/// when JS would split a surrogate pair, which it turns into U+FFFD).
fn prefix_utf16(s: &str, max: usize) -> &str {
    // A char has at least as many UTF-8 bytes as UTF-16 units.
    if s.len() <= max {
        return s;
    }
    // ASCII prefix (stack traces): one unit per byte, and `max` is a char boundary.
    if s.as_bytes()[..max].is_ascii() {
        return &s[..max];
    }
    let mut units = 0;
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        if units > max {
            return &s[..i];
        }
    }
    s
}

/// An error owned by a scheduled analysis.
#[derive(Debug, Clone, Default)]
pub(super) struct ErrorInput {
    pub(super) name: String,
    pub(super) message: String,
    pub(super) stack: String,
    pub(super) context: String,
}

/// One error as borrowed strings, for [`Pipeline::submit`](super::Pipeline::submit); copied only when an analysis
/// is actually scheduled.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorParts<'a> {
    pub name: &'a str,
    pub code: &'a str,
    pub message: &'a str,
    pub stack: &'a str,
}

impl<'a> ErrorParts<'a> {
    /// The parts the pipeline uses: message and stack cut to what JS slices them to, so
    /// longer input neither changes the fingerprint nor grows a scheduled analysis.
    pub(super) fn bounded(&self) -> Self {
        Self {
            message: prefix_utf16(self.message, MAX_MESSAGE_UNITS),
            stack: prefix_utf16(self.stack, MAX_STACK_UNITS),
            ..*self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_count_utf16_units_like_js() {
        assert_eq!(prefix_utf16("abc", 2), "ab");
        assert_eq!(prefix_utf16("abc", 3), "abc");
        // 'é' is one unit (two bytes), '😀' two units (four bytes).
        assert_eq!(prefix_utf16("éééé", 3), "ééé");
        assert_eq!(prefix_utf16("a😀b", 3), "a😀");
        assert_eq!(prefix_utf16("a😀b", 2), "a");
        assert_eq!(prefix_utf16("ab😀", 2), "ab");
    }

    #[test]
    fn bounded_parts_keep_what_js_keeps() {
        let message = "é".repeat(10_000);
        let stack = "s".repeat(20_000);
        let parts = ErrorParts {
            name: "Error",
            code: "E",
            message: &message,
            stack: &stack,
        }
        .bounded();
        assert_eq!(parts.message.chars().count(), MAX_MESSAGE_UNITS);
        assert_eq!(parts.stack.len(), MAX_STACK_UNITS);
        assert_eq!((parts.name, parts.code), ("Error", "E"));
        let short = ErrorParts {
            message: "m",
            stack: "s",
            ..parts
        }
        .bounded();
        assert_eq!((short.message, short.stack), ("m", "s"));
    }
}

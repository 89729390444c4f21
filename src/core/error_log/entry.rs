//! One handled error's entry, its text fields packed into one buffer.
//!
//! The JS thread fills an entry and the log thread formats it. With a `String` per field an
//! entry cost ~14 allocations on the JS thread and as many frees on the log thread (a free
//! of memory another thread allocated takes the allocator's shared path); measured in a
//! storm of `qerrors()` calls that was ~1.2 µs of the JS thread's time per entry. Packed,
//! an entry is one buffer, and [`super::LogThread`] hands written entries back for reuse, so
//! a steady storm allocates nothing per entry.

use std::sync::Arc;

use super::frames::{self, FramesMemo};

/// A text field of an entry. The line's keys are sorted; this order is only the storage's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The entry's `context` value as JSON text (written as it is).
    ContextJson,
    Code,
    Fingerprint,
    Id,
    /// The record's (redacted) message.
    ErrorMessage,
    Name,
    Severity,
    Stack,
    UniqueErrorName,
    /// The memory sample's JSON text (`{"external":…,"heapTotal":…,"heapUsed":…,"rss":…}`).
    MemoryJson,
    /// The entry's message, `<name>: <message>`.
    Message,
    Method,
    RequestId,
    Timestamp,
    Url,
}

/// How many fields there are: `Url` is the last.
const FIELDS: usize = Field::Url as usize + 1;

/// An entry kept for reuse holds at most this much text; a larger buffer is let go.
pub const KEEP_CAPACITY: usize = 16 * 1024;

/// One handled error's entry: its record's fields (redacted already) and the request's.
#[derive(Clone, Debug, Default)]
pub struct ErrorEntry {
    /// Logged at `warn` (a 4xx answer) rather than `error`.
    pub warn: bool,
    pub is_operational: bool,
    pub status: i64,
    /// Every field's text, one after another.
    buf: String,
    /// Where each field lies in `buf`; `None` for a field that is absent.
    spans: [Option<(u32, u32)>; FIELDS],
    /// The stack's frames, escaped for the JSON line already and shared with other entries:
    /// the line's stack is [`Field::Stack`] (escaped when written) followed by these.
    pub frames_json: Option<Arc<str>>,
}

impl ErrorEntry {
    /// An empty entry whose buffer holds `bytes` of text before it grows.
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            buf: String::with_capacity(bytes),
            ..Self::default()
        }
    }

    /// Empties the entry, keeping its buffer.
    pub fn clear(&mut self) {
        self.warn = false;
        self.is_operational = false;
        self.status = 0;
        self.buf.clear();
        self.spans = [None; FIELDS];
        self.frames_json = None;
    }

    /// Sets the stack: its frames by reference to their escaped text when `memo` keeps
    /// them, else the whole stack as text.
    pub fn set_stack(&mut self, stack: &str, memo: &mut FramesMemo) {
        let (head, rest) = frames::split(stack);
        match memo.escaped(rest) {
            Some(escaped) => {
                self.set(Field::Stack, head);
                self.frames_json = Some(escaped);
            }
            None => self.set(Field::Stack, stack),
        }
    }

    /// Sets a field (appended to the buffer; setting a field twice leaves the first text
    /// unused until [`ErrorEntry::clear`]). Text past 4 GiB in all is not kept.
    pub fn set(&mut self, field: Field, value: &str) {
        self.append(field, value.len(), |buf| buf.push_str(value));
    }

    /// Sets [`Field::Message`] to `<name>: <message>` from the fields already set: the
    /// entry's message when no custom pattern changed it (the JS side then sends no copy).
    pub fn set_message_from_fields(&mut self) {
        let (n0, n1) = self.spans[Field::Name as usize].unwrap_or((0, 0));
        let (m0, m1) = self.spans[Field::ErrorMessage as usize].unwrap_or((0, 0));
        let len = (n1 - n0) as usize + 2 + (m1 - m0) as usize;
        self.append(Field::Message, len, |buf| {
            buf.extend_from_within(n0 as usize..n1 as usize);
            buf.push_str(": ");
            buf.extend_from_within(m0 as usize..m1 as usize);
        });
    }

    /// Appends `len` bytes of text that `write` adds to the buffer, as `field`.
    fn append(&mut self, field: Field, len: usize, write: impl FnOnce(&mut String)) {
        let start = self.buf.len();
        let end = start + len;
        if u32::try_from(end).is_err() {
            return;
        }
        write(&mut self.buf);
        self.spans[field as usize] = Some((start as u32, end as u32));
    }

    /// A field's text, `None` when it was not set.
    pub fn get(&self, field: Field) -> Option<&str> {
        let (start, end) = self.spans[field as usize]?;
        self.buf.get(start as usize..end as usize)
    }

    /// A field's text, empty when it was not set.
    pub fn text(&self, field: Field) -> &str {
        self.get(field).unwrap_or("")
    }

    /// Bytes the buffer holds (what keeping the entry for reuse costs).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_in_any_order_and_absent_ones() {
        let mut e = ErrorEntry::default();
        e.set(Field::Name, "TypeError");
        e.set(Field::ContextJson, "{\"a\":1}");
        e.set(Field::Code, "");
        assert_eq!(e.get(Field::Name), Some("TypeError"));
        assert_eq!(e.get(Field::ContextJson), Some("{\"a\":1}"));
        assert_eq!(e.get(Field::Code), Some(""));
        assert_eq!(e.get(Field::Url), None);
        assert_eq!(e.text(Field::Url), "");
        let cap = e.capacity();
        e.clear();
        assert_eq!(e.get(Field::Name), None);
        assert_eq!(e.capacity(), cap);
        e.set(Field::Stack, "é€");
        assert_eq!(e.get(Field::Stack), Some("é€"));
        e.set(Field::ErrorMessage, "bad «input»");
        e.set(Field::Name, "TypeError");
        e.set_message_from_fields();
        assert_eq!(e.get(Field::Message), Some("TypeError: bad «input»"));
    }

    #[test]
    fn a_stack_seen_twice_shares_its_escaped_frames() {
        let mut memo = FramesMemo::new();
        let stack = format!("Error: a \"b\"{}", "\n    at f (/srv/a.js:1:2)".repeat(10));
        let mut e = ErrorEntry::default();
        e.set_stack(&stack, &mut memo);
        assert_eq!(e.get(Field::Stack), Some(stack.as_str()));
        assert!(e.frames_json.is_none());
        e.clear();
        e.set_stack(&stack, &mut memo);
        assert_eq!(e.get(Field::Stack), Some("Error: a \"b\""));
        assert!(e
            .frames_json
            .as_deref()
            .is_some_and(|f| f.starts_with("\\n    at f")));
        e.clear();
        assert!(e.frames_json.is_none());
    }
}

//! The frame lines of a stack, escaped for the JSON line once and shared by every entry
//! with the same frames.
//!
//! A storm repeats a few stacks: the same frames under messages that differ. Copying a
//! stack (1-2 KB) into each entry on the JS thread and escaping it again on the log thread
//! was most of both threads' per-entry work. Frames seen twice are escaped once and kept
//! (bounded, see [`FramesMemo::new`]); an entry then carries the stack's first line as text
//! and a shared reference to the escaped frames, which the log thread appends as they are.
//! `JSON.stringify` escapes character by character, so a stack escaped in two parts is
//! byte for byte the stack escaped whole.

use std::sync::Arc;

use super::line::push_json_inner;
use crate::core::line_memo::LineMemo;

/// Where V8's stack frames begin (`Error.prototype.stack`: the message, then one
/// `\n    at …` line per frame).
const FRAME_START: &str = "\n    at ";

/// Frames shorter than this are copied: a shared reference would not save anything.
const MIN_FRAMES: usize = 128;

/// The stack's head (its message line or lines) and its frames (from the first `\n    at `
/// on; empty when it has none).
pub fn split(stack: &str) -> (&str, &str) {
    match stack.find(FRAME_START) {
        Some(i) => stack.split_at(i),
        None => (stack, ""),
    }
}

/// Frames escaped for the JSON line, per thread of the entries' making.
pub struct FramesMemo(LineMemo<Arc<str>>);

impl Default for FramesMemo {
    fn default() -> Self {
        Self::new()
    }
}

impl FramesMemo {
    /// At most 128 distinct frame texts of up to 16 KiB, 2 MiB in all; frames are kept on
    /// their second sighting only, so stacks that never repeat are not copied in.
    pub fn new() -> Self {
        Self(LineMemo::admitting_repeats(16 * 1024, 128, 2 * 1024 * 1024))
    }

    /// The escaped text of `frames`, shared, when they are worth keeping and have been seen
    /// before; `None` otherwise (the entry then carries the stack as text).
    pub fn escaped(&mut self, frames: &str) -> Option<Arc<str>> {
        if frames.len() < MIN_FRAMES {
            return None;
        }
        self.0
            .get_or_make(
                frames,
                |v| v.len(),
                |f| {
                    let mut out = String::with_capacity(f.len() + f.len() / 8);
                    push_json_inner(&mut out, f);
                    Arc::from(out)
                },
            )
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_frame() {
        let s = "Error: a\nb\n    at f (x.js:1:2)\n    at g (y.js:3:4)";
        assert_eq!(
            split(s),
            ("Error: a\nb", "\n    at f (x.js:1:2)\n    at g (y.js:3:4)")
        );
        assert_eq!(split("Error: no frames"), ("Error: no frames", ""));
    }

    #[test]
    fn frames_are_kept_on_their_second_sighting_and_shared() {
        let frames = "\n    at handler (/srv/app/\"routes\".js:10:5)".repeat(8);
        let mut m = FramesMemo::new();
        assert!(m.escaped(&frames).is_none());
        let a = m.escaped(&frames).expect("kept the second time");
        let b = m.escaped(&frames).expect("kept");
        assert!(Arc::ptr_eq(&a, &b));
        let mut whole = String::new();
        push_json_inner(&mut whole, &frames);
        assert_eq!(&*a, whole);
        assert!(m.escaped("\n    at short (a.js:1:1)").is_none());
    }
}

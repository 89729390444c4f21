//! JSON on bytes: validation with limits and positioned errors, RFC 6901 pointer
//! extraction, parsing into `serde_json::Value`, JS-ready strings, and stringify.
//!
//! One hand-written, iterative scanner ([`scan`]) drives everything. It accepts exactly
//! the grammar `JSON.parse` accepts (ECMA-404; whitespace is space, tab, LF, CR), plus the
//! rule that bytes must be UTF-8. It never recurses, so no input depth can overflow a
//! thread's stack; `max_depth` bounds what callers then build.
//!
//! Strings are decoded with `JSON.parse` semantics: `\u` escapes may produce lone
//! surrogates. JS-ready strings ([`JsText`]) keep them exactly (UTF-16); Rust `String`s
//! cannot hold them, so [`parse`] and [`extract_str`] turn a lone surrogate into U+FFFD.
//!
//! The AI pipeline reads a provider's answer with [`extract_str`] and the pointers
//! [`OPENAI_CONTENT`] or [`GEMINI_TEXT`].

use std::fmt;
use std::io::Write;

use serde_json::{Map, Number, Value};

mod decode;
mod pointer;
mod prepare;
mod scan;
mod stringify;
mod value;

pub use decode::*;
pub use pointer::*;
pub use prepare::*;
pub use scan::*;
pub use stringify::*;
pub use value::*;

/// Default maximum input size: 16 MiB.
pub const DEFAULT_MAX_BYTES: usize = 16 * 1024 * 1024;
/// Default maximum nesting of arrays and objects.
pub const DEFAULT_MAX_DEPTH: usize = 128;
/// Highest accepted `max_depth`: deeper trees are costly to drop and to hand to JS.
pub const MAX_DEPTH_CAP: usize = 4096;

/// Content of an OpenAI-compatible chat completion.
pub const OPENAI_CONTENT: &str = "/choices/0/message/content";
/// Text of a Gemini `generateContent` answer.
pub const GEMINI_TEXT: &str = "/candidates/0/content/parts/0/text";

/// Strings at least this long (in UTF-8 bytes) are handed to JS as separate, pre-decoded
/// strings instead of inside the JSON text (see [`prepare`]).
pub const BIG_STRING_BYTES: usize = 16 * 1024;
/// Arrays of at least this much JSON text (and no big string inside) are handed to JS as
/// chunks of about [`CHUNK_BYTES`] each, so that `JSON.parse` can build them a chunk per
/// event-loop turn.
pub const CHUNKED_ARRAY_BYTES: usize = 128 * 1024;
/// Target size of one chunk of a chunked array.
pub const CHUNK_BYTES: usize = 32 * 1024;

/// Size and nesting limits applied before any work is done on the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: DEFAULT_MAX_BYTES,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Malformed JSON or invalid UTF-8.
    Syntax,
    /// Input larger than `max_bytes`, nesting deeper than `max_depth`, or output over a cap.
    Limit,
    /// A malformed JSON pointer.
    Pointer,
}

/// An error with its position: `offset` is a byte offset into the input, `line` and
/// `column` are 1-based (`column` counts bytes from the start of the line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    pub kind: ErrorKind,
    /// What went wrong, without the position.
    pub reason: String,
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

impl JsonError {
    fn at(kind: ErrorKind, input: &[u8], offset: usize, reason: impl Into<String>) -> Self {
        let offset = offset.min(input.len());
        let before = &input[..offset];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        JsonError {
            kind,
            reason: reason.into(),
            offset,
            line,
            column: offset - line_start + 1,
        }
    }

    fn unpositioned(kind: ErrorKind, reason: impl Into<String>) -> Self {
        JsonError {
            kind,
            reason: reason.into(),
            offset: 0,
            line: 1,
            column: 1,
        }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Pointer => f.write_str(&self.reason),
            _ => write!(
                f,
                "{} at line {} column {} (offset {})",
                self.reason, self.line, self.column, self.offset
            ),
        }
    }
}

impl std::error::Error for JsonError {}

/// Events of one scan. Every method has an empty default, so a visitor implements only
/// what it needs and the scanner compiles down to a plain validator for `()`.
pub trait Visitor {
    /// A value starts at `pos`; `depth` is the number of enclosing containers.
    fn value_start(&mut self, _pos: usize, _depth: usize) {}
    /// The value that started last at this `depth` ends just before `end`.
    fn value_end(&mut self, _end: usize, _depth: usize) {}
    fn begin_object(&mut self) {}
    fn end_object(&mut self) {}
    fn begin_array(&mut self) {}
    fn end_array(&mut self) {}
    /// The next value in the innermost object has this key: the bytes between the quotes.
    fn key(&mut self, _start: usize, _end: usize, _escaped: bool) {}
    /// The next value in the innermost array has this index.
    fn index(&mut self, _index: usize) {}
    /// A string value; `start..end` spans the quotes.
    fn string(&mut self, _start: usize, _end: usize, _escaped: bool) {}
    fn number(&mut self, _start: usize, _end: usize) {}
    /// `true`, `false` or `null`.
    fn literal(&mut self, _value: Option<bool>) {}
}

impl Visitor for () {}

/// Converts a byte offset into `text` to UTF-16 code units (for errors on JS strings).
pub fn utf16_offset(text: &[u8], byte_offset: usize) -> usize {
    let prefix = &text[..byte_offset.min(text.len())];
    match std::str::from_utf8(prefix) {
        Ok(s) => s.encode_utf16().count(),
        Err(e) => {
            let valid = &prefix[..e.valid_up_to()];
            std::str::from_utf8(valid).map_or(0, |s| s.encode_utf16().count())
                + (prefix.len() - valid.len())
        }
    }
}

/// Rewrites an error's `offset` and `column` in UTF-16 code units of `text`, the units
/// of a JS string input.
pub fn to_utf16_position(err: &mut JsonError, text: &[u8]) {
    let line_start = text[..err.offset.min(text.len())]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let start16 = utf16_offset(text, line_start);
    let offset16 = utf16_offset(text, err.offset);
    err.offset = offset16;
    err.column = offset16 - start16 + 1;
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod properties;

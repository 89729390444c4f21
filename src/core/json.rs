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

#[inline]
fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while let Some(&c) = b.get(pos) {
        if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            break;
        }
        pos += 1;
    }
    pos
}

/// 1 for bytes that end a plain run inside a string: `"`, `\` and control characters.
static STRING_STOP: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = 1;
        i += 1;
    }
    t[b'"' as usize] = 1;
    t[b'\\' as usize] = 1;
    t
};

/// True when any of the 8 bytes in `w` is `"`, `\` or below 0x20 (SWAR).
#[inline]
fn word_has_stop(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let quote = has_zero(w ^ (ONES * b'"' as u64));
    let backslash = has_zero(w ^ (ONES * b'\\' as u64));
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    (quote | backslash | control) != 0
}

fn describe(b: &[u8], pos: usize) -> String {
    match b.get(pos) {
        None => "Unexpected end of JSON input".to_owned(),
        Some(&c) if (0x21..0x7f).contains(&c) => format!("Unexpected token '{}'", c as char),
        Some(&c) => format!("Unexpected byte 0x{c:02x}"),
    }
}

struct Scanner<'a> {
    b: &'a [u8],
}

impl Scanner<'_> {
    fn err(&self, pos: usize, reason: impl Into<String>) -> JsonError {
        JsonError::at(ErrorKind::Syntax, self.b, pos, reason)
    }

    /// Scans the string whose opening quote is at `start`; returns the position after the
    /// closing quote and whether it holds escapes.
    #[inline]
    fn string(&self, start: usize) -> Result<(usize, bool), JsonError> {
        let b = self.b;
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            while i + 8 <= b.len() {
                let mut word = [0u8; 8];
                word.copy_from_slice(&b[i..i + 8]);
                if word_has_stop(u64::from_le_bytes(word)) {
                    break;
                }
                i += 8;
            }
            while i < b.len() && STRING_STOP[b[i] as usize] == 0 {
                i += 1;
            }
            match b.get(i) {
                None => return Err(self.err(b.len(), "Unterminated string in JSON")),
                Some(b'"') => return Ok((i + 1, escaped)),
                Some(b'\\') => {
                    escaped = true;
                    match b.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            for k in i + 2..i + 6 {
                                match b.get(k) {
                                    Some(c) if c.is_ascii_hexdigit() => {}
                                    None => return Err(self.err(k, "Unterminated string in JSON")),
                                    Some(_) => {
                                        return Err(self.err(k, "Bad Unicode escape in JSON"))
                                    }
                                }
                            }
                            i += 6;
                        }
                        None => return Err(self.err(i + 1, "Unterminated string in JSON")),
                        Some(_) => return Err(self.err(i + 1, "Bad escaped character in JSON")),
                    }
                }
                Some(_) => return Err(self.err(i, "Bad control character in string literal")),
            }
        }
    }

    /// Scans a number starting at `start`; returns the position after it.
    fn number(&self, start: usize) -> Result<usize, JsonError> {
        let b = self.b;
        let digits = |mut i: usize| {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        let mut i = start;
        if b[i] == b'-' {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(i + 1),
            _ => return Err(self.err(i, "No number after minus sign in JSON")),
        }
        if b.get(i) == Some(&b'.') {
            let j = digits(i + 1);
            if j == i + 1 {
                return Err(self.err(j, "Unterminated fractional number in JSON"));
            }
            i = j;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let j = digits(i);
            if j == i {
                return Err(self.err(j, "Exponent part is missing a number in JSON"));
            }
            i = j;
        }
        Ok(i)
    }

    fn literal(&self, start: usize, word: &[u8]) -> Result<usize, JsonError> {
        for (k, &w) in word.iter().enumerate() {
            if self.b.get(start + k) != Some(&w) {
                return Err(self.err(start + k, describe(self.b, start + k)));
            }
        }
        Ok(start + word.len())
    }
}

#[derive(Clone, Copy)]
enum Frame {
    Object,
    Array(usize),
}

#[derive(Clone, Copy)]
enum State {
    Value,
    Key,
    After,
}

/// Scans `input` as one JSON text, reporting events to `v`. Checks `max_bytes` and
/// `max_depth`, UTF-8 and the grammar; the first problem (by position) is returned.
pub fn scan<V: Visitor>(input: &[u8], limits: &Limits, v: &mut V) -> Result<(), JsonError> {
    check_size(input, limits)?;
    let utf8_error = std::str::from_utf8(input).err().map(|e| e.valid_up_to());
    let grammar = scan_grammar(input, limits, v);
    match (grammar, utf8_error) {
        (Err(e), Some(bad)) if bad < e.offset => Err(JsonError::at(
            ErrorKind::Syntax,
            input,
            bad,
            "Invalid UTF-8 in JSON",
        )),
        (Err(e), _) => Err(e),
        (Ok(()), Some(bad)) => Err(JsonError::at(
            ErrorKind::Syntax,
            input,
            bad,
            "Invalid UTF-8 in JSON",
        )),
        (Ok(()), None) => Ok(()),
    }
}

/// [`scan`] for text already known to be UTF-8.
pub fn scan_str<V: Visitor>(text: &str, limits: &Limits, v: &mut V) -> Result<(), JsonError> {
    check_size(text.as_bytes(), limits)?;
    scan_grammar(text.as_bytes(), limits, v)
}

fn check_size(input: &[u8], limits: &Limits) -> Result<(), JsonError> {
    if input.len() > limits.max_bytes {
        return Err(JsonError::unpositioned(
            ErrorKind::Limit,
            format!(
                "JSON input of {} bytes exceeds maxBytes ({})",
                input.len(),
                limits.max_bytes
            ),
        ));
    }
    Ok(())
}

fn scan_grammar<V: Visitor>(input: &[u8], limits: &Limits, v: &mut V) -> Result<(), JsonError> {
    let s = Scanner { b: input };
    let b = input;
    let mut stack: Vec<Frame> = Vec::new();
    let mut state = State::Value;
    let mut pos = skip_ws(b, 0);
    loop {
        match state {
            State::Value => {
                let depth = stack.len();
                let Some(&c) = b.get(pos) else {
                    return Err(s.err(pos, "Unexpected end of JSON input"));
                };
                v.value_start(pos, depth);
                match c {
                    b'{' | b'[' => {
                        if depth >= limits.max_depth {
                            return Err(JsonError::at(
                                ErrorKind::Limit,
                                b,
                                pos,
                                format!("JSON nesting exceeds maxDepth ({})", limits.max_depth),
                            ));
                        }
                        let close = if c == b'{' { b'}' } else { b']' };
                        if c == b'{' {
                            v.begin_object();
                        } else {
                            v.begin_array();
                        }
                        pos = skip_ws(b, pos + 1);
                        if b.get(pos) == Some(&close) {
                            pos += 1;
                            if c == b'{' {
                                v.end_object();
                            } else {
                                v.end_array();
                            }
                            v.value_end(pos, depth);
                            state = State::After;
                        } else if c == b'{' {
                            stack.push(Frame::Object);
                            state = State::Key;
                        } else {
                            stack.push(Frame::Array(0));
                            v.index(0);
                        }
                    }
                    b'"' => {
                        let (end, escaped) = s.string(pos)?;
                        v.string(pos, end, escaped);
                        pos = end;
                        v.value_end(pos, depth);
                        state = State::After;
                    }
                    b'-' | b'0'..=b'9' => {
                        let end = s.number(pos)?;
                        v.number(pos, end);
                        pos = end;
                        v.value_end(pos, depth);
                        state = State::After;
                    }
                    b't' | b'f' | b'n' => {
                        let (word, value): (&[u8], _) = match c {
                            b't' => (b"true", Some(true)),
                            b'f' => (b"false", Some(false)),
                            _ => (b"null", None),
                        };
                        pos = s.literal(pos, word)?;
                        v.literal(value);
                        v.value_end(pos, depth);
                        state = State::After;
                    }
                    _ => return Err(s.err(pos, describe(b, pos))),
                }
            }
            State::Key => {
                if b.get(pos) != Some(&b'"') {
                    let reason = if pos >= b.len() {
                        "Unexpected end of JSON input".to_owned()
                    } else {
                        "Expected double-quoted property name in JSON".to_owned()
                    };
                    return Err(s.err(pos, reason));
                }
                let (end, escaped) = s.string(pos)?;
                v.key(pos + 1, end - 1, escaped);
                pos = skip_ws(b, end);
                if b.get(pos) != Some(&b':') {
                    return Err(s.err(pos, "Expected ':' after property name in JSON"));
                }
                pos = skip_ws(b, pos + 1);
                state = State::Value;
            }
            State::After => {
                pos = skip_ws(b, pos);
                let Some(frame) = stack.last_mut() else {
                    if pos < b.len() {
                        return Err(s.err(pos, "Unexpected non-whitespace character after JSON"));
                    }
                    return Ok(());
                };
                match (frame, b.get(pos)) {
                    (Frame::Array(i), Some(b',')) => {
                        *i += 1;
                        v.index(*i);
                        pos = skip_ws(b, pos + 1);
                        state = State::Value;
                    }
                    (Frame::Object, Some(b',')) => {
                        pos = skip_ws(b, pos + 1);
                        state = State::Key;
                    }
                    (Frame::Array(_), Some(b']')) => {
                        stack.pop();
                        pos += 1;
                        v.end_array();
                        v.value_end(pos, stack.len());
                    }
                    (Frame::Object, Some(b'}')) => {
                        stack.pop();
                        pos += 1;
                        v.end_object();
                        v.value_end(pos, stack.len());
                    }
                    (_, None) => return Err(s.err(pos, "Unexpected end of JSON input")),
                    (Frame::Array(_), Some(_)) => {
                        return Err(s.err(pos, "Expected ',' or ']' after array element in JSON"))
                    }
                    (Frame::Object, Some(_)) => {
                        return Err(s.err(pos, "Expected ',' or '}' after property value in JSON"))
                    }
                }
            }
        }
    }
}

/// Checks that `input` is one valid JSON text within `limits`.
pub fn validate(input: &[u8], limits: &Limits) -> Result<(), JsonError> {
    scan(input, limits, &mut ())
}

// ---------------------------------------------------------------------------------------
// String decoding

/// Decodes the escape at `b[i]` (a backslash); returns its code unit and byte length.
fn escape_unit(b: &[u8], i: usize) -> (u16, usize) {
    match b.get(i + 1) {
        Some(b'b') => (0x08, 2),
        Some(b'f') => (0x0c, 2),
        Some(b'n') => (0x0a, 2),
        Some(b'r') => (0x0d, 2),
        Some(b't') => (0x09, 2),
        Some(b'u') => {
            let mut u = 0u16;
            for &h in b.get(i + 2..i + 6).unwrap_or(&[]) {
                let d = (h as char).to_digit(16).unwrap_or(0) as u16;
                u = u << 4 | d;
            }
            (u, 6)
        }
        Some(&c) => (c as u16, 2),
        None => (b'\\' as u16, 1),
    }
}

/// Decodes a JSON string body into a Rust `String` (lone surrogates become U+FFFD).
fn decode_string(body: &str, escaped: bool) -> String {
    if !escaped {
        return body.to_owned();
    }
    String::from_utf16_lossy(&decode_utf16(body.as_bytes(), true))
}

/// Length of the run of plain ASCII bytes at the start of `b` (no backslash when
/// `escapes`).
#[inline]
fn ascii_run(b: &[u8], escapes: bool) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let backslashes = if escapes { ONES * b'\\' as u64 } else { 0 };
    let mut i = 0;
    // Eight bytes at a time while none is non-ASCII or a backslash (SWAR).
    while i + 8 <= b.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[i..i + 8]);
        let w = u64::from_le_bytes(word);
        let x = w ^ backslashes;
        let backslash = if escapes {
            x.wrapping_sub(ONES) & !x & HIGH
        } else {
            0
        };
        if (w & HIGH) | backslash != 0 {
            break;
        }
        i += 8;
    }
    i + b[i..]
        .iter()
        .position(|&c| c >= 0x80 || (escapes && c == b'\\'))
        .unwrap_or(b.len() - i)
}

/// Latin-1 form of valid UTF-8 whose code points are all below U+0100, except that an
/// escape may still denote a wider unit: then `None`.
fn decode_latin1(b: &[u8], escapes: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let run = ascii_run(&b[i..], escapes);
        out.extend_from_slice(&b[i..i + run]);
        i += run;
        let Some(&c) = b.get(i) else { break };
        if c == b'\\' {
            let (u, len) = escape_unit(b, i);
            out.push(u8::try_from(u).ok()?);
            i += len;
        } else {
            // 0xC2 or 0xC3 lead: U+0080..U+00FF.
            let next = b.get(i + 1).copied().unwrap_or(0x80);
            out.push(((c & 0x1f) << 6) | (next & 0x3f));
            i += 2;
        }
    }
    Some(out)
}

/// UTF-16 form of valid UTF-8, escapes decoded as `JSON.parse` does.
fn decode_utf16(b: &[u8], escapes: bool) -> Vec<u16> {
    let mut out = Vec::with_capacity(b.len());
    let at = |k: usize| (b.get(k).copied().unwrap_or(0x80) & 0x3f) as u32;
    let mut i = 0;
    while i < b.len() {
        let run = ascii_run(&b[i..], escapes);
        out.extend(b[i..i + run].iter().map(|&c| c as u16));
        i += run;
        let Some(&c) = b.get(i) else { break };
        if c == b'\\' {
            let (u, len) = escape_unit(b, i);
            out.push(u);
            i += len;
        } else if c < 0xe0 {
            out.push(((((c & 0x1f) as u32) << 6) | at(i + 1)) as u16);
            i += 2;
        } else if c < 0xf0 {
            out.push(((((c & 0x0f) as u32) << 12) | (at(i + 1) << 6) | at(i + 2)) as u16);
            i += 3;
        } else {
            let cp = (((c & 0x07) as u32) << 18) | (at(i + 1) << 12) | (at(i + 2) << 6) | at(i + 3);
            let v = cp.saturating_sub(0x10000);
            out.push(0xd800 | (v >> 10) as u16);
            out.push(0xdc00 | (v & 0x3ff) as u16);
            i += 4;
        }
    }
    out
}

/// A string in the form a JS engine copies without decoding: Latin-1 when every code
/// unit is below 0x100 (a V8 one-byte string), UTF-16 otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsText {
    Latin1(Vec<u8>),
    Utf16(Vec<u16>),
}

impl JsText {
    /// Converts UTF-8 text (no JSON escapes involved).
    pub fn from_text(s: &str) -> JsText {
        JsText::decode(s.as_bytes(), false)
    }

    /// Decodes a JSON string body (between the quotes, as accepted by [`scan`]).
    pub fn from_json_body(body: &str, escaped: bool) -> JsText {
        JsText::decode(body.as_bytes(), escaped)
    }

    /// `b` is valid UTF-8; with `escapes`, backslash sequences are decoded too.
    fn decode(b: &[u8], escapes: bool) -> JsText {
        // A lead byte of 0xC4 or more starts a code point of U+0100 or above.
        if !b.iter().any(|&c| c >= 0xc4) {
            if let Some(latin1) = decode_latin1(b, escapes) {
                return JsText::Latin1(latin1);
            }
        }
        JsText::Utf16(decode_utf16(b, escapes))
    }
    /// Length in UTF-16 code units (JS `length`).
    pub fn js_len(&self) -> usize {
        match self {
            JsText::Latin1(v) => v.len(),
            JsText::Utf16(v) => v.len(),
        }
    }

    /// Lossy conversion back to Rust (lone surrogates become U+FFFD); for tests and logs.
    pub fn to_string_lossy(&self) -> String {
        match self {
            JsText::Latin1(v) => v.iter().map(|&b| b as char).collect(),
            JsText::Utf16(v) => String::from_utf16_lossy(v),
        }
    }
}

// ---------------------------------------------------------------------------------------
// JSON pointers

/// A parsed RFC 6901 JSON pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pointer {
    tokens: Vec<String>,
    /// The array index each token denotes, when it is one ("0" or no leading zero).
    indices: Vec<Option<usize>>,
}

impl Pointer {
    /// Parses `""` (the whole document) or `/token/...` with `~0` = `~` and `~1` = `/`.
    pub fn parse(text: &str) -> Result<Pointer, JsonError> {
        if text.is_empty() {
            return Ok(Pointer {
                tokens: Vec::new(),
                indices: Vec::new(),
            });
        }
        let Some(rest) = text.strip_prefix('/') else {
            return Err(JsonError::unpositioned(
                ErrorKind::Pointer,
                format!("JSON pointer {text:?} must be empty or start with '/'"),
            ));
        };
        let mut tokens = Vec::new();
        for raw in rest.split('/') {
            let mut token = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c != '~' {
                    token.push(c);
                    continue;
                }
                match chars.next() {
                    Some('0') => token.push('~'),
                    Some('1') => token.push('/'),
                    _ => {
                        return Err(JsonError::unpositioned(
                            ErrorKind::Pointer,
                            format!("JSON pointer {text:?} has '~' not followed by '0' or '1'"),
                        ))
                    }
                }
            }
            tokens.push(token);
        }
        let indices = tokens
            .iter()
            .map(|t| {
                let canonical = t == "0" || (!t.starts_with('0') && !t.is_empty());
                if canonical && t.bytes().all(|c| c.is_ascii_digit()) {
                    t.parse::<usize>().ok()
                } else {
                    None
                }
            })
            .collect();
        Ok(Pointer { tokens, indices })
    }

    /// The unescaped reference tokens.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }
}

#[derive(Clone, Copy)]
enum Seg {
    Key(usize, usize, bool),
    Index(usize),
    None,
}

/// Finds the spans of the values pointers refer to, with `JSON.parse` semantics for
/// duplicate keys (the last occurrence wins).
struct PointerTracker<'a> {
    input: &'a [u8],
    pointers: &'a [Pointer],
    /// How many leading tokens of each pointer the current path matches.
    matched: Vec<usize>,
    open: Vec<Option<usize>>,
    found: Vec<Option<(usize, usize)>>,
    seg: Seg,
}

impl<'a> PointerTracker<'a> {
    fn new(input: &'a [u8], pointers: &'a [Pointer]) -> Self {
        PointerTracker {
            input,
            pointers,
            matched: vec![0; pointers.len()],
            open: vec![None; pointers.len()],
            found: vec![None; pointers.len()],
            seg: Seg::None,
        }
    }

    fn seg_matches(&self, p: usize, depth: usize) -> bool {
        let ptr = &self.pointers[p];
        match self.seg {
            Seg::Index(i) => ptr.indices[depth - 1] == Some(i),
            Seg::Key(start, end, escaped) => {
                let token = &ptr.tokens[depth - 1];
                let raw = &self.input[start..end];
                if !escaped {
                    return raw == token.as_bytes();
                }
                std::str::from_utf8(raw).is_ok_and(|body| decode_string(body, true) == *token)
            }
            Seg::None => false,
        }
    }
}

impl Visitor for PointerTracker<'_> {
    fn key(&mut self, start: usize, end: usize, escaped: bool) {
        self.seg = Seg::Key(start, end, escaped);
    }

    fn index(&mut self, index: usize) {
        self.seg = Seg::Index(index);
    }

    fn value_start(&mut self, pos: usize, depth: usize) {
        for p in 0..self.pointers.len() {
            let len = self.pointers[p].tokens.len();
            let m = if depth == 0 {
                0
            } else if self.matched[p] >= depth - 1 && len >= depth && self.seg_matches(p, depth) {
                depth
            } else {
                self.matched[p].min(depth - 1)
            };
            self.matched[p] = m;
            if m == depth && depth <= len {
                // A later duplicate key replaces whatever an earlier one held.
                self.found[p] = None;
                if depth == len {
                    self.open[p] = Some(pos);
                }
            }
        }
    }

    fn value_end(&mut self, end: usize, depth: usize) {
        for p in 0..self.pointers.len() {
            if self.pointers[p].tokens.len() == depth {
                if let Some(start) = self.open[p].take() {
                    self.found[p] = Some((start, end));
                }
            }
        }
    }
}

/// Validates `input` and returns, for every pointer, the byte span of the value it
/// refers to (`None` when the document has no such value).
pub fn find_spans(
    input: &[u8],
    pointers: &[Pointer],
    limits: &Limits,
) -> Result<Vec<Option<(usize, usize)>>, JsonError> {
    let mut t = PointerTracker::new(input, pointers);
    scan(input, limits, &mut t)?;
    Ok(t.found)
}

// ---------------------------------------------------------------------------------------
// serde_json values

struct ValueBuilder<'a> {
    text: &'a str,
    stack: Vec<(Value, Option<String>)>,
    key: Option<String>,
    root: Option<Value>,
}

impl ValueBuilder<'_> {
    fn push(&mut self, v: Value) {
        match self.stack.last_mut() {
            Some((Value::Array(items), _)) => items.push(v),
            Some((Value::Object(map), _)) => {
                // Like JSON.parse, a repeated key keeps its first position and the last value.
                map.insert(self.key.take().unwrap_or_default(), v);
            }
            _ => self.root = Some(v),
        }
    }

    fn close(&mut self) {
        if let Some((v, key)) = self.stack.pop() {
            self.key = key;
            self.push(v);
        }
    }
}

impl Visitor for ValueBuilder<'_> {
    fn begin_object(&mut self) {
        self.stack
            .push((Value::Object(Map::new()), self.key.take()));
    }
    fn end_object(&mut self) {
        self.close();
    }
    fn begin_array(&mut self) {
        self.stack.push((Value::Array(Vec::new()), self.key.take()));
    }
    fn end_array(&mut self) {
        self.close();
    }
    fn key(&mut self, start: usize, end: usize, escaped: bool) {
        self.key = Some(decode_string(&self.text[start..end], escaped));
    }
    fn string(&mut self, start: usize, end: usize, escaped: bool) {
        let s = decode_string(&self.text[start + 1..end - 1], escaped);
        self.push(Value::String(s));
    }
    fn number(&mut self, start: usize, end: usize) {
        let text = &self.text[start..end];
        // serde_json refuses numbers beyond f64 (JSON.parse gives ±Infinity, which
        // JSON.stringify writes as null): null is the faithful Value for them.
        let v = text.parse::<Number>().map_or(Value::Null, Value::Number);
        self.push(v);
    }
    fn literal(&mut self, value: Option<bool>) {
        self.push(value.map_or(Value::Null, Value::Bool));
    }
}

/// `input` as text, after one UTF-8 pass. The grammar is left to the caller's scan;
/// when the UTF-8 is bad, the error is the first problem of the document, which may be
/// a syntax error before the bad byte.
fn checked_text<'a>(input: &'a [u8], limits: &Limits) -> Result<&'a str, JsonError> {
    check_size(input, limits)?;
    std::str::from_utf8(input).map_err(|e| {
        validate(input, limits).err().unwrap_or_else(|| {
            JsonError::at(
                ErrorKind::Syntax,
                input,
                e.valid_up_to(),
                "Invalid UTF-8 in JSON",
            )
        })
    })
}

fn build_value(text: &str, limits: &Limits) -> Result<Value, JsonError> {
    let mut b = ValueBuilder {
        text,
        stack: Vec::new(),
        key: None,
        root: None,
    };
    scan_str(text, limits, &mut b)?;
    Ok(b.root.unwrap_or(Value::Null))
}

/// Parses `input` into a `serde_json::Value` with `JSON.parse` semantics: object key
/// order kept, the last of repeated keys wins, floats round-trip. Integers that fit
/// `u64`/`i64` stay exact; numbers beyond `f64` become `null`; lone surrogates U+FFFD.
pub fn parse(input: &[u8], limits: &Limits) -> Result<Value, JsonError> {
    build_value(checked_text(input, limits)?, limits)
}

/// The value `pointer` refers to, parsed; `None` when the document has none.
pub fn extract_value(
    input: &[u8],
    pointer: &str,
    limits: &Limits,
) -> Result<Option<Value>, JsonError> {
    let p = Pointer::parse(pointer)?;
    let spans = find_spans(input, std::slice::from_ref(&p), limits)?;
    match spans.first().copied().flatten() {
        None => Ok(None),
        Some((start, end)) => {
            let text = std::str::from_utf8(&input[start..end]).map_err(|e| {
                JsonError::at(
                    ErrorKind::Syntax,
                    input,
                    start + e.valid_up_to(),
                    "Invalid UTF-8",
                )
            })?;
            build_value(text, limits).map(Some)
        }
    }
}

/// The string `pointer` refers to, as an owned `String`; `None` when the document has
/// no value there or the value is not a string. This is what the AI pipeline uses:
/// `extract_str(body, OPENAI_CONTENT, &Limits::default())`.
pub fn extract_str(
    input: &[u8],
    pointer: &str,
    limits: &Limits,
) -> Result<Option<String>, JsonError> {
    let p = Pointer::parse(pointer)?;
    let spans = find_spans(input, std::slice::from_ref(&p), limits)?;
    Ok(match spans.first().copied().flatten() {
        Some((start, end)) if input[start] == b'"' => {
            let body = &input[start + 1..end - 1];
            std::str::from_utf8(body)
                .ok()
                .map(|s| decode_string(s, body.contains(&b'\\')))
        }
        _ => None,
    })
}

/// A `Write` that refuses to grow past a cap.
struct CappedWriter {
    out: Vec<u8>,
    cap: usize,
}

impl Write for CappedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > self.cap {
            return Err(std::io::Error::other("cap"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Serializes `value` as compact JSON, failing with [`ErrorKind::Limit`] as soon as the
/// output would exceed `max_bytes` (nothing larger is ever allocated).
pub fn stringify(value: &Value, max_bytes: usize) -> Result<String, JsonError> {
    let mut w = CappedWriter {
        out: Vec::new(),
        cap: max_bytes,
    };
    match serde_json::to_writer(&mut w, value) {
        Ok(()) => String::from_utf8(w.out).map_err(|_| {
            JsonError::unpositioned(ErrorKind::Syntax, "serializer wrote invalid UTF-8")
        }),
        Err(e) if e.is_io() => Err(JsonError::unpositioned(
            ErrorKind::Limit,
            format!("JSON output exceeds maxBytes ({max_bytes})"),
        )),
        Err(e) => Err(JsonError::unpositioned(ErrorKind::Syntax, e.to_string())),
    }
}

// ---------------------------------------------------------------------------------------
// Handing JSON to JS

/// One step of a path from a parsed value down to a patched string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSeg {
    Key(JsText),
    Index(usize),
}

/// What a patch puts back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatchValue {
    /// A big string, decoded.
    String(JsText),
    /// A big array as JSON texts of consecutive slices of its elements (each one an
    /// array itself): the array is their concatenation.
    Chunks(Vec<JsText>),
}

/// A big value cut out of the JSON text: after `JSON.parse` of the skeleton, the value
/// at `path` is the string `sentinel` and must be replaced by `value`. When it is not
/// the sentinel (a later duplicate key replaced it), the patch is skipped: exactly what
/// `JSON.parse` of the original text would have kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patch {
    pub path: Vec<PathSeg>,
    pub sentinel: String,
    pub value: PatchValue,
}

/// A JSON value ready for the JS side: either a string already decoded, or JSON text for
/// `JSON.parse` (floats, key order and duplicate keys then behave exactly as there) with
/// its big strings cut out into patches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prepared {
    String(JsText),
    Json { text: JsText, patches: Vec<Patch> },
}

/// A value [`prepare`] cuts out of the text.
enum Cut {
    String { escaped: bool },
    Array { chunks: Vec<(usize, usize)> },
}

/// An open container while [`BigStrings`] scans.
struct OpenContainer {
    is_array: bool,
    start: usize,
    /// A big string or a chunked array lies inside: not chunked itself.
    holds_cut: bool,
    /// Start of the chunk being filled (arrays).
    chunk_start: Option<usize>,
    last_end: usize,
    chunks: Vec<(usize, usize)>,
}

struct BigStrings<'a> {
    text: &'a str,
    segs: Vec<Seg>,
    frames: Vec<OpenContainer>,
    pending_start: usize,
    closing: Option<OpenContainer>,
    found: Vec<(usize, usize, Cut, Vec<Seg>)>,
}

impl BigStrings<'_> {
    fn open(&mut self, is_array: bool) {
        self.segs.push(Seg::None);
        self.frames.push(OpenContainer {
            is_array,
            start: self.pending_start,
            holds_cut: false,
            chunk_start: None,
            last_end: 0,
            chunks: Vec::new(),
        });
    }

    fn close(&mut self) {
        self.segs.pop();
        self.closing = self.frames.pop();
    }

    fn mark_parent(&mut self) {
        if let Some(parent) = self.frames.last_mut() {
            parent.holds_cut = true;
        }
    }
}

impl Visitor for BigStrings<'_> {
    // Every value starts and ends inside the innermost open container (`frames` is
    // pushed by begin_* after value_start and popped by end_* before value_end).
    fn value_start(&mut self, pos: usize, _depth: usize) {
        self.pending_start = pos;
        if let Some(f) = self.frames.last_mut() {
            if f.is_array && f.chunk_start.is_none() {
                f.chunk_start = Some(pos);
            }
        }
    }
    fn value_end(&mut self, end: usize, _depth: usize) {
        if let Some(mut f) = self.closing.take() {
            if let Some(cs) = f.chunk_start {
                f.chunks.push((cs, f.last_end));
            }
            if f.holds_cut {
                self.mark_parent();
            } else if f.is_array && end - f.start >= CHUNKED_ARRAY_BYTES && f.chunks.len() > 1 {
                self.found.push((
                    f.start,
                    end,
                    Cut::Array { chunks: f.chunks },
                    self.segs.clone(),
                ));
                self.mark_parent();
            }
        }
        if let Some(f) = self.frames.last_mut() {
            if f.is_array {
                f.last_end = end;
                if let Some(cs) = f.chunk_start {
                    if end - cs >= CHUNK_BYTES {
                        f.chunks.push((cs, end));
                        f.chunk_start = None;
                    }
                }
            }
        }
    }
    fn begin_object(&mut self) {
        self.open(false);
    }
    fn begin_array(&mut self) {
        self.open(true);
    }
    fn end_object(&mut self) {
        self.close();
    }
    fn end_array(&mut self) {
        self.close();
    }
    fn key(&mut self, start: usize, end: usize, escaped: bool) {
        if let Some(s) = self.segs.last_mut() {
            *s = Seg::Key(start, end, escaped);
        }
    }
    fn index(&mut self, index: usize) {
        if let Some(s) = self.segs.last_mut() {
            *s = Seg::Index(index);
        }
    }
    fn string(&mut self, start: usize, end: usize, escaped: bool) {
        if end - start >= BIG_STRING_BYTES {
            self.found
                .push((start, end, Cut::String { escaped }, self.segs.clone()));
            self.mark_parent();
        }
    }
}

/// Validates one JSON text and turns it into its JS-ready form. `nonce` makes the
/// sentinels unguessable for the data.
pub fn prepare(text: &str, limits: &Limits, nonce: u64) -> Result<Prepared, JsonError> {
    let b = text.as_bytes();
    check_size(b, limits)?;
    let start = skip_ws(b, 0);
    if b.get(start) == Some(&b'"') {
        let (end, escaped) = Scanner { b }.string(start)?;
        if skip_ws(b, end) != b.len() {
            validate(b, limits)?;
        }
        return Ok(Prepared::String(JsText::from_json_body(
            &text[start + 1..end - 1],
            escaped,
        )));
    }
    let mut v = BigStrings {
        text,
        segs: Vec::new(),
        frames: Vec::new(),
        pending_start: 0,
        closing: None,
        found: Vec::new(),
    };
    scan_str(text, limits, &mut v)?;
    if v.found.is_empty() {
        return Ok(Prepared::Json {
            text: JsText::from_text(text),
            patches: Vec::new(),
        });
    }
    let mut skeleton = String::with_capacity(64 * v.found.len() + 1024);
    let mut patches = Vec::with_capacity(v.found.len());
    let mut copied = 0;
    // Cuts never nest (a container holding one is not cut), and each is recorded when
    // it ends, so they come in text order.
    for (n, (start, end, cut, segs)) in v.found.iter().enumerate() {
        let sentinel = format!("@qerrors-{nonce:016x}-{n}");
        skeleton.push_str(&text[copied..*start]);
        skeleton.push('"');
        skeleton.push_str(&sentinel);
        skeleton.push('"');
        copied = *end;
        let path = segs
            .iter()
            .map(|s| match *s {
                Seg::Key(ks, ke, kesc) => {
                    PathSeg::Key(JsText::from_json_body(&v.text[ks..ke], kesc))
                }
                Seg::Index(i) => PathSeg::Index(i),
                Seg::None => PathSeg::Index(0),
            })
            .collect();
        let value = match cut {
            Cut::String { escaped } => {
                PatchValue::String(JsText::from_json_body(&text[start + 1..end - 1], *escaped))
            }
            Cut::Array { chunks } => PatchValue::Chunks(
                chunks
                    .iter()
                    .map(|&(cs, ce)| JsText::from_text(&format!("[{}]", &text[cs..ce])))
                    .collect(),
            ),
        };
        patches.push(Patch {
            path,
            sentinel,
            value,
        });
    }
    skeleton.push_str(&text[copied..]);
    Ok(Prepared::Json {
        text: JsText::from_text(&skeleton),
        patches,
    })
}

/// Validates `input` and prepares the whole document for JS.
pub fn prepare_document(input: &[u8], limits: &Limits, nonce: u64) -> Result<Prepared, JsonError> {
    prepare(checked_text(input, limits)?, limits, nonce)
}

/// Validates `input` and prepares the value of every pointer for JS (`None`: no value).
pub fn prepare_pointers(
    input: &[u8],
    pointers: &[Pointer],
    limits: &Limits,
    nonce: u64,
) -> Result<Vec<Option<Prepared>>, JsonError> {
    let text = checked_text(input, limits)?;
    let mut t = PointerTracker::new(input, pointers);
    scan_str(text, limits, &mut t)?;
    t.found
        .into_iter()
        .map(|span| {
            span.map(|(s, e)| prepare(&text[s..e], limits, nonce))
                .transpose()
        })
        .collect()
}

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
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn lim() -> Limits {
        Limits::default()
    }

    fn err(input: &str) -> JsonError {
        validate(input.as_bytes(), &lim()).unwrap_err()
    }

    #[test]
    fn accepts_valid_documents() {
        for text in [
            "0",
            "-0",
            "1.5e+10",
            "-12.25E-3",
            "\"\"",
            " true ",
            "false",
            "null",
            "[]",
            "{}",
            "[1,[2,[3]],{\"a\":{}}]",
            "\r\n\t{ \"a\" : [ 1 , 2 ] }\n",
            "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"",
        ] {
            assert_eq!(validate(text.as_bytes(), &lim()), Ok(()), "{text}");
        }
    }

    #[test]
    fn rejects_invalid_documents_with_positions() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "Unexpected end"),
            ("   ", 3, "Unexpected end"),
            ("{", 1, "Unexpected end"),
            ("[1,]", 3, "Unexpected token ']'"),
            ("{\"a\":1,}", 7, "property name"),
            ("{\"a\" 1}", 5, "':'"),
            ("{\"a\":1 \"b\":2}", 7, "',' or '}'"),
            ("[1 2]", 3, "',' or ']'"),
            ("01", 1, "after JSON"),
            ("1.", 2, "fractional"),
            ("1e", 2, "Exponent"),
            ("-", 1, "minus"),
            ("-a", 1, "minus"),
            ("tru", 3, "Unexpected end"),
            ("trux", 3, "Unexpected token 'x'"),
            ("nul", 3, "Unexpected end"),
            ("\"abc", 4, "Unterminated string"),
            ("\"a\tb\"", 2, "control character"),
            ("\"\\x\"", 2, "escaped character"),
            ("\"\\u12G4\"", 5, "Unicode escape"),
            ("{} []", 3, "after JSON"),
            ("'a'", 0, "Unexpected token '''"),
            ("NaN", 0, "Unexpected token 'N'"),
            ("[Infinity]", 1, "Unexpected token 'I'"),
            ("\u{feff}1", 0, "Unexpected byte 0xef"),
            ("[1]\u{a0}", 3, "after JSON"),
        ];
        for &(text, offset, reason) in cases {
            let e = err(text);
            assert_eq!(e.kind, ErrorKind::Syntax, "{text:?}");
            assert_eq!(e.offset, offset, "{text:?}: {e}");
            assert!(e.reason.contains(reason), "{text:?}: {e}");
        }
    }

    #[test]
    fn error_lines_and_columns() {
        let e = err("{\n  \"a\": 1,\n  \"b\": ?\n}");
        assert_eq!((e.line, e.column, e.offset), (3, 8, 19));
        assert_eq!(
            e.to_string(),
            "Unexpected token '?' at line 3 column 8 (offset 19)"
        );
        let mut e = err("[\"é😀\", x]");
        assert_eq!((e.line, e.column, e.offset), (1, 12, 11));
        to_utf16_position(&mut e, "[\"é😀\", x]".as_bytes());
        assert_eq!((e.column, e.offset), (9, 8));
    }

    #[test]
    fn invalid_utf8_is_a_positioned_syntax_error() {
        let e = validate(b"[\"ab\xff\"]", &lim()).unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::Syntax, 4));
        assert!(e.reason.contains("UTF-8"));
        // A syntax error before the bad byte is the one reported.
        let e = validate(b"[x, \"\xff\"]", &lim()).unwrap_err();
        assert_eq!(e.offset, 1);
        // Overlong and surrogate encodings are invalid UTF-8 too.
        assert!(validate(b"\"\xc0\xaf\"", &lim()).is_err());
        assert!(validate(b"\"\xed\xa0\x80\"", &lim()).is_err());
    }

    #[test]
    fn depth_limit_is_exact_and_never_recurses() {
        let ok = "[".repeat(128) + &"]".repeat(128);
        assert_eq!(validate(ok.as_bytes(), &lim()), Ok(()));
        let deep = "[".repeat(129) + &"]".repeat(129);
        let e = validate(deep.as_bytes(), &lim()).unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::Limit, 128));
        let objects = "{\"a\":".repeat(5) + "1" + &"}".repeat(5);
        let l = Limits {
            max_depth: 4,
            ..lim()
        };
        assert_eq!(
            validate(objects.as_bytes(), &l).unwrap_err().kind,
            ErrorKind::Limit
        );
        // A million open brackets: an iterative scanner just reports the limit.
        let huge = "[".repeat(1_000_000);
        let l = Limits {
            max_depth: usize::MAX,
            ..lim()
        };
        assert!(validate(huge.as_bytes(), &l)
            .unwrap_err()
            .reason
            .contains("end"));
    }

    #[test]
    fn size_limit_comes_first() {
        let l = Limits {
            max_bytes: 4,
            ..lim()
        };
        assert_eq!(validate(b"[1,2]", &l).unwrap_err().kind, ErrorKind::Limit);
        assert_eq!(validate(b"[12]", &l), Ok(()));
    }

    #[test]
    fn huge_documents() {
        let content = "lorem ipsum \\\"dolor\\\" ".repeat(300_000);
        let doc = format!("{{\"choices\":[{{\"message\":{{\"content\":\"{content}\"}}}}]}}");
        assert!(doc.len() > 6_000_000);
        let s = extract_str(doc.as_bytes(), OPENAI_CONTENT, &lim())
            .unwrap()
            .unwrap();
        assert_eq!(s.len(), content.len() - 2 * 300_000);
        let items: Vec<String> = (0..50_000)
            .map(|i| format!("{{\"token\":\"t{i}\",\"logprob\":-{i}.5e-3}}"))
            .collect();
        let doc = format!("[{}]", items.join(","));
        let v = parse(doc.as_bytes(), &lim()).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 50_000);
        assert_eq!(v[49_999]["token"], "t49999");
    }

    #[test]
    fn parses_like_json_parse() {
        let v = parse(
            br#"{"z":1,"a":[true,false,null],"m":{"b":2.5,"a":"x"},"z":3}"#,
            &lim(),
        )
        .unwrap();
        // Key order of first appearance, value of the last duplicate.
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"z":3,"a":[true,false,null],"m":{"b":2.5,"a":"x"}}"#
        );
    }

    #[test]
    fn unicode_escapes_and_surrogates() {
        let v = parse(
            r#"["é😀中", "\u00e9\ud83d\ude00\u4e2d", "\n\t\"\\\/"]"#.as_bytes(),
            &lim(),
        )
        .unwrap();
        assert_eq!(v, json!(["é😀中", "é😀中", "\n\t\"\\/"]));
        // Lone surrogates: JS keeps them, Rust strings get U+FFFD.
        let doc = r#""a\ud800b\udc00c\ude00\ud83d""#;
        assert_eq!(
            parse(doc.as_bytes(), &lim()).unwrap(),
            json!("a\u{fffd}b\u{fffd}c\u{fffd}\u{fffd}")
        );
        match prepare_document(doc.as_bytes(), &lim(), 1).unwrap() {
            Prepared::String(JsText::Utf16(units)) => assert_eq!(
                units,
                vec![0x61, 0xd800, 0x62, 0xdc00, 0x63, 0xde00, 0xd83d]
            ),
            other => panic!("{other:?}"),
        }
        // Latin-1 when every unit fits a byte, including escaped ones.
        assert_eq!(
            prepare_document("\"caf\\u00e9 ÿ\"".as_bytes(), &lim(), 1).unwrap(),
            Prepared::String(JsText::Latin1(b"caf\xe9 \xff".to_vec()))
        );
    }

    #[test]
    fn floats_round_trip_and_big_integers() {
        let v = parse(
            b"[0.1, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308, 1e400, 123456789.12345678]",
            &lim(),
        )
        .unwrap();
        assert_eq!(v[0].as_f64(), Some(0.1));
        assert_eq!(v[1].as_f64(), Some(f64::MAX));
        assert_eq!(v[2].as_f64(), Some(5e-324));
        assert_eq!(v[3].as_f64(), Some(2.2250738585072014e-308));
        assert_eq!(v[4], Value::Null);
        assert_eq!(v[5].as_f64(), Some(123456789.12345678));
        let v = parse(
            b"[18446744073709551615, -9223372036854775808, 123456789012345678901234567890]",
            &lim(),
        )
        .unwrap();
        assert_eq!(v[0].as_u64(), Some(u64::MAX));
        assert_eq!(v[1].as_i64(), Some(i64::MIN));
        assert_eq!(v[2].as_f64(), Some(1.2345678901234568e29));
    }

    #[test]
    fn pointers_parse_and_escape() {
        assert!(Pointer::parse("").unwrap().tokens().is_empty());
        assert_eq!(
            Pointer::parse("/a~1b/m~0n/~01").unwrap().tokens(),
            ["a/b", "m~n", "~1"]
        );
        assert_eq!(Pointer::parse("/").unwrap().tokens(), [""]);
        assert_eq!(Pointer::parse("a").unwrap_err().kind, ErrorKind::Pointer);
        assert_eq!(Pointer::parse("/a~2").unwrap_err().kind, ErrorKind::Pointer);
        assert_eq!(Pointer::parse("/a~").unwrap_err().kind, ErrorKind::Pointer);
    }

    #[test]
    fn extracts_rfc6901_examples() {
        let doc = br#"{"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4,
            "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8, "\u0070": 9}"#;
        let get = |p: &str| extract_value(doc, p, &lim()).unwrap();
        assert_eq!(get("/foo"), Some(json!(["bar", "baz"])));
        assert_eq!(get("/foo/0"), Some(json!("bar")));
        assert_eq!(get("/foo/1"), Some(json!("baz")));
        assert_eq!(get("/foo/2"), None);
        assert_eq!(get("/foo/01"), None);
        assert_eq!(get("/foo/-"), None);
        assert_eq!(get("/"), Some(json!(0)));
        assert_eq!(get("/a~1b"), Some(json!(1)));
        assert_eq!(get("/c%d"), Some(json!(2)));
        assert_eq!(get("/e^f"), Some(json!(3)));
        assert_eq!(get("/g|h"), Some(json!(4)));
        assert_eq!(get("/i\\j"), Some(json!(5)));
        assert_eq!(get("/k\"l"), Some(json!(6)));
        assert_eq!(get("/ "), Some(json!(7)));
        assert_eq!(get("/m~0n"), Some(json!(8)));
        assert_eq!(get("/p"), Some(json!(9)));
        assert_eq!(get("/foo/0/x"), None);
        assert_eq!(get("/missing"), None);
        assert_eq!(get("").unwrap()["foo"], json!(["bar", "baz"]));
    }

    #[test]
    fn extraction_follows_last_duplicate() {
        let doc = br#"{"a":{"b":1},"x":[{"b":2}],"a":{"c":3}}"#;
        assert_eq!(extract_value(doc, "/a/b", &lim()).unwrap(), None);
        assert_eq!(extract_value(doc, "/a/c", &lim()).unwrap(), Some(json!(3)));
        assert_eq!(
            extract_value(doc, "/x/0/b", &lim()).unwrap(),
            Some(json!(2))
        );
        // Extraction still validates the whole document.
        assert!(extract_value(br#"{"a":1,"b":}"#, "/a", &lim()).is_err());
    }

    #[test]
    fn provider_responses() {
        let openai = br#"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,
            "message":{"role":"assistant","content":"{\"advice\":\"Check \\\"x\\\" \u00e9 \ud83d\ude00\"}"},
            "finish_reason":"stop"}],"usage":{"total_tokens":12}}"#;
        assert_eq!(
            extract_str(openai, OPENAI_CONTENT, &lim())
                .unwrap()
                .unwrap(),
            "{\"advice\":\"Check \\\"x\\\" é 😀\"}"
        );
        let gemini = br#"{"candidates":[{"content":{"parts":[{"text":"hello"}],"role":"model"}}]}"#;
        assert_eq!(
            extract_str(gemini, GEMINI_TEXT, &lim()).unwrap().unwrap(),
            "hello"
        );
        assert_eq!(extract_str(gemini, OPENAI_CONTENT, &lim()).unwrap(), None);
        assert_eq!(
            extract_str(
                br#"{"choices":[{"message":{"content":null}}]}"#,
                OPENAI_CONTENT,
                &lim()
            )
            .unwrap(),
            None
        );
    }

    #[test]
    fn prepare_cuts_big_strings_into_patches() {
        let big = "x\\u00e9😀".repeat(BIG_STRING_BYTES);
        let doc = format!(r#"{{"a":[1,{{"k\"y":"{big}"}}],"b":2.5,"c":"{big}","c":0}}"#);
        let Prepared::Json { text, patches } =
            prepare_document(doc.as_bytes(), &lim(), 0xab).unwrap()
        else {
            panic!("expected JSON")
        };
        assert_eq!(
            text.to_string_lossy(),
            r#"{"a":[1,{"k\"y":"@qerrors-00000000000000ab-0"}],"b":2.5,"c":"@qerrors-00000000000000ab-1","c":0}"#
        );
        assert_eq!(patches.len(), 2);
        assert_eq!(
            patches[0].path,
            vec![
                PathSeg::Key(JsText::Latin1(b"a".to_vec())),
                PathSeg::Index(1),
                PathSeg::Key(JsText::Latin1(b"k\"y".to_vec()))
            ]
        );
        let PatchValue::String(value) = &patches[0].value else {
            panic!("expected a string")
        };
        assert_eq!(value.js_len(), 4 * BIG_STRING_BYTES);
        assert_eq!(value.to_string_lossy(), "xé😀".repeat(BIG_STRING_BYTES));
        // Small documents are passed through untouched.
        assert_eq!(
            prepare_document(b"[1, \"a\"]", &lim(), 0).unwrap(),
            Prepared::Json {
                text: JsText::Latin1(b"[1, \"a\"]".to_vec()),
                patches: Vec::new()
            }
        );
    }

    #[test]
    fn prepare_chunks_big_arrays_of_small_values() {
        let item = r#"{"token":" é","logprob":-0.25,"bytes":[32,195,169]}"#;
        let n = 2 * CHUNKED_ARRAY_BYTES / item.len();
        let items = vec![item; n].join(" ,\n");
        // A chunked array, a small one, and one holding a big string (never chunked).
        let big = "y".repeat(BIG_STRING_BYTES);
        let doc =
            format!(r#"{{"a":[{{"content":[{items}]}}],"small":[1,2],"b":[{items},"{big}"]}}"#);
        let Prepared::Json { text, patches } = prepare_document(doc.as_bytes(), &lim(), 7).unwrap()
        else {
            panic!("expected JSON")
        };
        assert_eq!(patches.len(), 2);
        let PatchValue::Chunks(chunks) = &patches[0].value else {
            panic!("expected chunks")
        };
        assert_eq!(
            patches[0].path,
            vec![
                PathSeg::Key(JsText::Latin1(b"a".to_vec())),
                PathSeg::Index(0),
                PathSeg::Key(JsText::Latin1(b"content".to_vec()))
            ]
        );
        assert!(chunks.len() > 4, "{} chunks", chunks.len());
        // Each chunk is a valid array, and together they hold every element in order.
        let mut all = Vec::new();
        for c in chunks {
            let t = c.to_string_lossy();
            assert!(
                t.len() < CHUNK_BYTES + 2 * item.len(),
                "chunk of {}",
                t.len()
            );
            all.extend(
                parse(t.as_bytes(), &lim())
                    .unwrap()
                    .as_array()
                    .unwrap()
                    .clone(),
            );
        }
        assert_eq!(all.len(), n);
        assert_eq!(all[n - 1], parse(item.as_bytes(), &lim()).unwrap());
        assert!(matches!(patches[1].value, PatchValue::String(_)));
        let skeleton = text.to_string_lossy();
        assert!(skeleton.starts_with(
            r#"{"a":[{"content":"@qerrors-0000000000000007-0"}],"small":[1,2],"b":["#
        ));
    }

    #[test]
    fn prepare_pointers_returns_each_value() {
        let doc = br#"{"choices":[{"message":{"content":"hi \u00e9"}}],"usage":{"n":[1,2]}}"#;
        let ptrs = [
            Pointer::parse(OPENAI_CONTENT).unwrap(),
            Pointer::parse("/usage").unwrap(),
            Pointer::parse("/nope").unwrap(),
        ];
        let out = prepare_pointers(doc, &ptrs, &lim(), 0).unwrap();
        assert_eq!(
            out[0],
            Some(Prepared::String(JsText::Latin1(b"hi \xe9".to_vec())))
        );
        assert_eq!(
            out[1],
            Some(Prepared::Json {
                text: JsText::Latin1(br#"{"n":[1,2]}"#.to_vec()),
                patches: Vec::new()
            })
        );
        assert_eq!(out[2], None);
    }

    #[test]
    fn stringify_caps_output() {
        let v = json!({"b": [1, 2.5, "é\n"], "a": null});
        assert_eq!(
            stringify(&v, 1000).unwrap(),
            r#"{"b":[1,2.5,"é\n"],"a":null}"#
        );
        assert_eq!(stringify(&v, 10).unwrap_err().kind, ErrorKind::Limit);
        let long = Value::String("x".repeat(1 << 20));
        assert_eq!(
            stringify(&long, 1 << 20).unwrap_err().kind,
            ErrorKind::Limit
        );
        assert_eq!(
            stringify(&long, (1 << 20) + 2).unwrap().len(),
            (1 << 20) + 2
        );
    }
}

//! The scanner: one iterative pass over the bytes that checks the grammar and the limits
//! and reports values to a [`Visitor`].

use super::*;

#[inline]
pub(super) fn skip_ws(b: &[u8], mut pos: usize) -> usize {
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

pub(super) struct Scanner<'a> {
    pub(super) b: &'a [u8],
}

impl Scanner<'_> {
    fn err(&self, pos: usize, reason: impl Into<String>) -> JsonError {
        JsonError::at(ErrorKind::Syntax, self.b, pos, reason)
    }

    /// Scans the string whose opening quote is at `start`; returns the position after the
    /// closing quote and whether it holds escapes.
    #[inline]
    pub(super) fn string(&self, start: usize) -> Result<(usize, bool), JsonError> {
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

pub(super) fn check_size(input: &[u8], limits: &Limits) -> Result<(), JsonError> {
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

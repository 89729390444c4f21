//! JSON string decoding: escapes to UTF-8 (`String`) or to the Latin-1/UTF-16 forms a JS
//! engine copies without decoding ([`JsText`]).

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
pub(super) fn decode_string(body: &str, escaped: bool) -> String {
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

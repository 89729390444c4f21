//! Parsing into `serde_json::Value` and extracting the value or string at a pointer.

use super::*;

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
pub(super) fn checked_text<'a>(input: &'a [u8], limits: &Limits) -> Result<&'a str, JsonError> {
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

//! A handled error's JSON log line, byte for byte what lib/logging/line.js writes for the
//! same entry (`JSON.stringify` of an entry whose keys are inserted sorted): the keys of
//! the entry in UTF-16 order, strings escaped as `JSON.stringify` escapes them.

/// Appends `s` as a JSON string the way `JSON.stringify` writes it: `"` and `\\` escaped,
/// `\b \f \n \r \t` in short form, other control characters as `\u00xx` (lowercase hex),
/// everything else as it is. (A Rust string holds no lone surrogates, the one other case
/// `JSON.stringify` escapes; the JS side sends only well-formed strings.)
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    push_json_inner(out, s);
    out.push('"');
}

/// [`push_json_str`] without the quotes: what goes between them.
pub fn push_json_inner(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// The logger's fields that are the same for every entry of the process.
#[derive(Clone, Debug, Default)]
pub struct Constants {
    /// `NODE_ENV` at start; `None` when it was unset (the key is then left out).
    pub environment: Option<String>,
    pub hostname: String,
    pub pid: u32,
    pub service: String,
    pub version: String,
}

pub use super::entry::{ErrorEntry, Field};

fn push_key(out: &mut String, key: &str) {
    out.push(',');
    out.push('"');
    out.push_str(key);
    out.push_str("\":");
}

fn push_str_field(out: &mut String, key: &str, value: &str) {
    push_key(out, key);
    push_json_str(out, value);
}

/// Writes the file (and JSON stdout) line of an entry, without its end of line, into `out`
/// (emptied first, its buffer reused).
pub fn write_file_line(out: &mut String, c: &Constants, e: &ErrorEntry) {
    out.clear();
    let stack = e.get(Field::Stack);
    out.reserve(
        320 + e.text(Field::ContextJson).len()
            + e.text(Field::ErrorMessage).len() * 2
            + stack.map_or(0, |s| s.len() + s.len() / 8),
    );
    out.push_str("{\"context\":");
    out.push_str(e.text(Field::ContextJson));
    if let Some(env) = &c.environment {
        push_str_field(out, "environment", env);
    }
    out.push_str(",\"error\":{");
    if let Some(code) = e.get(Field::Code) {
        out.push_str("\"code\":");
        push_json_str(out, code);
        out.push(',');
    }
    if let Some(fp) = e.get(Field::Fingerprint) {
        out.push_str("\"fingerprint\":");
        push_json_str(out, fp);
        out.push(',');
    }
    out.push_str("\"id\":");
    push_json_str(out, e.text(Field::Id));
    out.push_str(if e.is_operational {
        ",\"isOperational\":true"
    } else {
        ",\"isOperational\":false"
    });
    push_str_field(out, "message", e.text(Field::ErrorMessage));
    push_str_field(out, "name", e.text(Field::Name));
    push_str_field(out, "severity", e.text(Field::Severity));
    if let Some(stack) = stack {
        push_key(out, "stack");
        out.push('"');
        push_json_inner(out, stack);
        // The rest of the stack, escaped already (src/core/error_log/frames.rs).
        if let Some(frames) = &e.frames_json {
            out.push_str(frames);
        }
        out.push('"');
    }
    push_key(out, "statusCode");
    push_int(out, e.status);
    push_str_field(out, "uniqueErrorName", e.text(Field::UniqueErrorName));
    out.push('}');
    push_str_field(out, "hostname", &c.hostname);
    let (level, log_level) = if e.warn {
        ("warn", "WARN")
    } else {
        ("error", "ERROR")
    };
    push_str_field(out, "level", level);
    push_str_field(out, "logLevel", log_level);
    push_key(out, "memory");
    out.push_str(e.text(Field::MemoryJson));
    push_str_field(out, "message", e.text(Field::Message));
    if let Some(m) = e.get(Field::Method) {
        push_str_field(out, "method", m);
    }
    push_key(out, "pid");
    push_int(out, i64::from(c.pid));
    if let Some(r) = e.get(Field::RequestId) {
        push_str_field(out, "requestId", r);
    }
    push_str_field(out, "service", &c.service);
    push_key(out, "status");
    push_int(out, e.status);
    push_str_field(out, "timestamp", e.text(Field::Timestamp));
    if let Some(u) = e.get(Field::Url) {
        push_str_field(out, "url", u);
    }
    push_str_field(out, "version", &c.version);
    out.push('}');
}

fn push_int(out: &mut String, n: i64) {
    use std::fmt::Write;
    // Writing to a String cannot fail.
    let _ = write!(out, "{n}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_json_stringify() {
        let mut s = String::new();
        push_json_str(&mut s, "a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{1f}é/€\u{7f}");
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001fé/€\u{7f}\"");
    }

    #[test]
    fn sorted_keys_and_optional_fields() {
        let c = Constants {
            environment: None,
            hostname: "h".into(),
            pid: 7,
            service: "svc".into(),
            version: "1.0.0".into(),
        };
        let mut e = ErrorEntry::default();
        e.warn = true;
        e.is_operational = true;
        e.status = 404;
        for (f, v) in [
            (Field::ContextJson, "\"orders\""),
            (Field::Id, "abc"),
            (Field::ErrorMessage, "m"),
            (Field::Name, "Error"),
            (Field::Severity, "medium"),
            (Field::UniqueErrorName, "u"),
            (Field::MemoryJson, "{\"rss\":1}"),
            (Field::Message, "Error: m"),
            (Field::Timestamp, "t"),
        ] {
            e.set(f, v);
        }
        let mut line = String::from("left from an earlier entry");
        write_file_line(&mut line, &c, &e);
        assert_eq!(
            line,
            "{\"context\":\"orders\",\"error\":{\"id\":\"abc\",\"isOperational\":true,\"message\":\"m\",\"name\":\"Error\",\"severity\":\"medium\",\"statusCode\":404,\"uniqueErrorName\":\"u\"},\"hostname\":\"h\",\"level\":\"warn\",\"logLevel\":\"WARN\",\"memory\":{\"rss\":1},\"message\":\"Error: m\",\"pid\":7,\"service\":\"svc\",\"status\":404,\"timestamp\":\"t\",\"version\":\"1.0.0\"}"
        );
    }
}

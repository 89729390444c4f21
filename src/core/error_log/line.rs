//! A handled error's JSON log line, byte for byte what lib/logging/line.js writes for the
//! same entry (`JSON.stringify` of an entry whose keys are inserted sorted): the keys of
//! the entry in UTF-16 order, strings escaped as `JSON.stringify` escapes them.

/// Appends `s` as a JSON string the way `JSON.stringify` writes it: `"` and `\` escaped,
/// `\b \f \n \r \t` in short form, other control characters as `\u00xx` (lowercase hex),
/// everything else as it is. (A Rust string holds no lone surrogates, the one other case
/// `JSON.stringify` escapes; the JS side sends only well-formed strings.)
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
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
    out.push('"');
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

/// One handled error's entry: its record's fields (redacted already) and the request's.
#[derive(Clone, Debug, Default)]
pub struct ErrorEntry {
    /// Logged at `warn` (a 4xx answer) rather than `error`.
    pub warn: bool,
    /// The entry's `context` value as JSON text (written as it is).
    pub context_json: String,
    pub code: Option<String>,
    pub fingerprint: Option<String>,
    pub id: String,
    pub is_operational: bool,
    /// The record's (redacted) message.
    pub error_message: String,
    pub name: String,
    pub severity: String,
    pub stack: Option<String>,
    pub status: i64,
    pub unique_error_name: String,
    /// The memory sample's JSON text (`{"external":…,"heapTotal":…,"heapUsed":…,"rss":…}`).
    pub memory_json: String,
    /// The entry's message, `<name>: <message>`.
    pub message: String,
    pub method: Option<String>,
    pub request_id: Option<String>,
    pub timestamp: String,
    pub url: Option<String>,
}

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

/// The file (and JSON stdout) line of an entry, without its end of line.
pub fn file_line(c: &Constants, e: &ErrorEntry) -> String {
    let mut out = String::with_capacity(
        320 + e.context_json.len()
            + e.error_message.len() * 2
            + e.stack.as_ref().map_or(0, |s| s.len() + s.len() / 8),
    );
    out.push_str("{\"context\":");
    out.push_str(&e.context_json);
    if let Some(env) = &c.environment {
        push_str_field(&mut out, "environment", env);
    }
    out.push_str(",\"error\":{");
    if let Some(code) = &e.code {
        out.push_str("\"code\":");
        push_json_str(&mut out, code);
        out.push(',');
    }
    if let Some(fp) = &e.fingerprint {
        out.push_str("\"fingerprint\":");
        push_json_str(&mut out, fp);
        out.push(',');
    }
    out.push_str("\"id\":");
    push_json_str(&mut out, &e.id);
    out.push_str(if e.is_operational {
        ",\"isOperational\":true"
    } else {
        ",\"isOperational\":false"
    });
    push_str_field(&mut out, "message", &e.error_message);
    push_str_field(&mut out, "name", &e.name);
    push_str_field(&mut out, "severity", &e.severity);
    if let Some(stack) = &e.stack {
        push_str_field(&mut out, "stack", stack);
    }
    push_key(&mut out, "statusCode");
    out.push_str(&e.status.to_string());
    push_str_field(&mut out, "uniqueErrorName", &e.unique_error_name);
    out.push('}');
    push_str_field(&mut out, "hostname", &c.hostname);
    let (level, log_level) = if e.warn {
        ("warn", "WARN")
    } else {
        ("error", "ERROR")
    };
    push_str_field(&mut out, "level", level);
    push_str_field(&mut out, "logLevel", log_level);
    push_key(&mut out, "memory");
    out.push_str(&e.memory_json);
    push_str_field(&mut out, "message", &e.message);
    if let Some(m) = &e.method {
        push_str_field(&mut out, "method", m);
    }
    push_key(&mut out, "pid");
    out.push_str(&c.pid.to_string());
    if let Some(r) = &e.request_id {
        push_str_field(&mut out, "requestId", r);
    }
    push_str_field(&mut out, "service", &c.service);
    push_key(&mut out, "status");
    out.push_str(&e.status.to_string());
    push_str_field(&mut out, "timestamp", &e.timestamp);
    if let Some(u) = &e.url {
        push_str_field(&mut out, "url", u);
    }
    push_str_field(&mut out, "version", &c.version);
    out.push('}');
    out
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
        let e = ErrorEntry {
            warn: true,
            context_json: "\"orders\"".into(),
            id: "abc".into(),
            is_operational: true,
            error_message: "m".into(),
            name: "Error".into(),
            severity: "medium".into(),
            status: 404,
            unique_error_name: "u".into(),
            memory_json: "{\"rss\":1}".into(),
            message: "Error: m".into(),
            timestamp: "t".into(),
            ..Default::default()
        };
        assert_eq!(
            file_line(&c, &e),
            "{\"context\":\"orders\",\"error\":{\"id\":\"abc\",\"isOperational\":true,\"message\":\"m\",\"name\":\"Error\",\"severity\":\"medium\",\"statusCode\":404,\"uniqueErrorName\":\"u\"},\"hostname\":\"h\",\"level\":\"warn\",\"logLevel\":\"WARN\",\"memory\":{\"rss\":1},\"message\":\"Error: m\",\"pid\":7,\"service\":\"svc\",\"status\":404,\"timestamp\":\"t\",\"version\":\"1.0.0\"}"
        );
    }
}

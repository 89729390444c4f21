//! Compact serialization with an output cap.

use super::*;

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

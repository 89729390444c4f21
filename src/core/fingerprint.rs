//! Error fingerprints: a 64-bit hash of an error's normalized name, code, message and stack.
//!
//! Two occurrences of the same fault should share one fingerprint (and so one cached piece of
//! advice) even when they differ in the parts that change from one occurrence to the next:
//! line and column numbers, hex addresses, ids, UUIDs, numbers, ports and absolute paths.
//! Normalization replaces those parts with stable placeholders; different faults keep
//! different words and frames, so they keep different fingerprints.

/// Bytes of the message that take part in the fingerprint; longer tails are usually payloads.
const MAX_MESSAGE_BYTES: usize = 2048;
/// Stack frames that take part: deep recursion or async depth must not split a fingerprint.
const MAX_FRAMES: usize = 10;

/// The fingerprint of an error.
pub fn fingerprint(name: &str, code: &str, message: &str, stack: &str) -> u64 {
    let mut h = Fnv64::new();
    h.write(name.trim().as_bytes());
    h.write(&[0]);
    h.write(code.trim().as_bytes());
    h.write(&[0]);
    h.write(normalize_message(message).as_bytes());
    h.write(&[0]);
    h.write(normalize_stack(stack).as_bytes());
    h.finish()
}

/// The fingerprint as the 16 lowercase hex digits used in JS.
pub fn to_hex(fp: u64) -> String {
    format!("{fp:016x}")
}

/// Parses 16 hex digits back into a fingerprint.
pub fn from_hex(s: &str) -> Option<u64> {
    if s.len() != 16 {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

/// The message with variable parts replaced: UUIDs by `<uuid>`, hex addresses by `<hex>`,
/// ids by `<id>`, numbers by `#`, absolute paths by `<path>`; whitespace collapsed.
pub fn normalize_message(message: &str) -> String {
    let cut = floor_char_boundary(message, MAX_MESSAGE_BYTES);
    let mut out = Vec::with_capacity(cut.min(256));
    normalize_text(&message.as_bytes()[..cut], &mut out, PathMode::Placeholder);
    trim_into_string(out)
}

/// The stack's frames (`at …` lines, at most ten) with line and column numbers removed and
/// paths reduced to their file name, one frame per line. Other lines (the message) are skipped.
pub fn normalize_stack(stack: &str) -> String {
    let mut out = Vec::new();
    let frames = stack
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("at "))
        .take(MAX_FRAMES);
    for frame in frames {
        normalize_frame(frame.as_bytes(), &mut out);
        out.push(b'\n');
    }
    trim_into_string(out)
}

fn normalize_frame(frame: &[u8], out: &mut Vec<u8>) {
    // `at fn (location)` or `at location`; the location is `path:line:col` or `native`.
    let (head, location) = match (frame.iter().position(|&b| b == b'('), frame.last()) {
        (Some(open), Some(b')')) => (&frame[..open], &frame[open + 1..frame.len() - 1]),
        _ => (&b""[..], &frame[3.min(frame.len())..]),
    };
    if head.is_empty() {
        out.extend_from_slice(b"at ");
    } else {
        normalize_text(head, out, PathMode::Placeholder);
    }
    let location = strip_line_col(location);
    let file = match location.iter().rposition(|&b| b == b'/' || b == b'\\') {
        Some(i) => &location[i + 1..],
        None => location,
    };
    out.push(b'(');
    normalize_text(file, out, PathMode::Keep);
    out.push(b')');
}

/// Drops a trailing `:line:col` or `:line`.
fn strip_line_col(mut s: &[u8]) -> &[u8] {
    for _ in 0..2 {
        let digits = s.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits == s.len() || s[s.len() - digits - 1] != b':' {
            break;
        }
        s = &s[..s.len() - digits - 1];
    }
    s
}

#[derive(Clone, Copy, PartialEq)]
enum PathMode {
    Placeholder,
    Keep,
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn normalize_text(s: &[u8], out: &mut Vec<u8>, paths: PathMode) {
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b.is_ascii_whitespace() {
            if out.last().is_some_and(|&l| l != b' ' && l != b'\n') {
                out.push(b' ');
            }
            while i < s.len() && s[i].is_ascii_whitespace() {
                i += 1;
            }
            continue;
        }
        if paths == PathMode::Placeholder && starts_path(s, i) {
            let end = i + s[i..].iter().take_while(|&&c| is_path_byte(c)).count();
            out.extend_from_slice(b"<path>");
            i = end;
            continue;
        }
        if is_word(b) {
            if is_uuid_at(s, i) {
                out.extend_from_slice(b"<uuid>");
                i += 36;
                continue;
            }
            let end = i + s[i..].iter().take_while(|&&c| is_word(c)).count();
            push_word(&s[i..end], out);
            i = end;
            continue;
        }
        out.push(b);
        i += 1;
    }
}

fn push_word(w: &[u8], out: &mut Vec<u8>) {
    let digits = w.iter().filter(|b| b.is_ascii_digit()).count();
    if digits == w.len() {
        out.push(b'#');
    } else if w.len() > 2 && (w[..2] == *b"0x" || w[..2] == *b"0X") && is_hex(&w[2..]) {
        out.extend_from_slice(b"<hex>");
    } else if digits >= 4 || (digits > 0 && w.len() >= 8 && is_hex(w)) {
        out.extend_from_slice(b"<id>");
    } else {
        out.extend_from_slice(w);
    }
}

fn is_hex(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_hexdigit)
}

fn is_uuid_at(s: &[u8], i: usize) -> bool {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let mut p = i;
    for (g, len) in GROUPS.iter().enumerate() {
        if g > 0 {
            if s.get(p) != Some(&b'-') {
                return false;
            }
            p += 1;
        }
        match s.get(p..p + len) {
            Some(part) if is_hex(part) => p += len,
            _ => return false,
        }
    }
    !s.get(p).copied().is_some_and(is_word)
}

fn is_path_byte(b: u8) -> bool {
    !(b.is_ascii_whitespace() || matches!(b, b'\'' | b'"' | b'`' | b'(' | b')' | b',' | b';'))
}

/// An absolute path starts with `/` (or `X:\`) after a separator and holds another separator.
fn starts_path(s: &[u8], i: usize) -> bool {
    let after_sep = i == 0 || matches!(s[i - 1], b' ' | b'\'' | b'"' | b'`' | b'(' | b'=');
    if !after_sep {
        return false;
    }
    let rest = &s[i..];
    let body = if rest.first() == Some(&b'/') {
        &rest[1..]
    } else if rest.len() > 3 && rest[0].is_ascii_alphabetic() && rest[1] == b':' && rest[2] == b'\\'
    {
        &rest[3..]
    } else {
        return false;
    };
    let run: &[u8] = &body[..body.iter().take_while(|&&c| is_path_byte(c)).count()];
    !run.is_empty() && run.iter().any(|&c| c == b'/' || c == b'\\')
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn trim_into_string(mut out: Vec<u8>) -> String {
    while out.last().is_some_and(|b| b.is_ascii_whitespace()) {
        out.pop();
    }
    // Only ASCII runs are replaced, so multi-byte sequences stay whole.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// FNV-1a, 64-bit: tiny, fast on short inputs and stable across builds and platforms.
struct Fnv64(u64);

impl Fnv64 {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STACK_A: &str = "TypeError: Cannot read properties of undefined (reading 'id')\n    at getUser (/home/app/src/users.js:42:17)\n    at Layer.handle [as handle_request] (/home/app/node_modules/express/lib/router/layer.js:95:5)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)";
    const STACK_B: &str = "TypeError: Cannot read properties of undefined (reading 'id')\n    at getUser (/srv/deploy-2/src/users.js:57:9)\n    at Layer.handle [as handle_request] (/srv/deploy-2/node_modules/express/lib/router/layer.js:95:5)\n    at process.processTicksAndRejections (node:internal/process/task_queues:96:7)";

    #[test]
    fn same_error_from_other_lines_and_directories_matches() {
        let msg = "Cannot read properties of undefined (reading 'id')";
        assert_eq!(
            fingerprint("TypeError", "", msg, STACK_A),
            fingerprint("TypeError", "", msg, STACK_B)
        );
        assert_eq!(normalize_stack(STACK_A), normalize_stack(STACK_B));
        assert_eq!(
            normalize_stack(STACK_A),
            "at getUser (users.js)\nat Layer.handle [as handle_request] (layer.js)\nat process.processTicksAndRejections (task_queues)"
        );
    }

    #[test]
    fn ids_numbers_uuids_addresses_and_paths_are_replaced() {
        let a = normalize_message(
            "order 12345 for user_98231 failed: request 3f2a9c1e-8b7d-4e6f-a1b2-c3d4e5f60718 at 0x7ffd5a2c, file /var/data/u1/a.json",
        );
        let b = normalize_message(
            "order 777 for user_10001 failed: request 00000000-1111-2222-3333-444444444444 at 0xDEAD, file /tmp/x/b.json",
        );
        assert_eq!(a, b);
        assert_eq!(
            a,
            "order # for <id> failed: request <uuid> at <hex>, file <path>"
        );
        assert_eq!(
            normalize_message("connect ECONNREFUSED 127.0.0.1:5432"),
            "connect ECONNREFUSED #.#.#.#:#"
        );
        assert_eq!(
            normalize_message("token a1b2c3d4e5f6 expired"),
            "token <id> expired"
        );
    }

    #[test]
    fn ordinary_words_with_digits_survive() {
        assert_eq!(
            normalize_message("utf8 base64 http2 v8 sha256"),
            "utf8 base64 http2 v8 sha256"
        );
        assert_eq!(normalize_message("a   b\n\tc  "), "a b c");
    }

    #[test]
    fn different_errors_differ() {
        let base = fingerprint("Error", "", "connect ECONNREFUSED 127.0.0.1:80", "");
        assert_ne!(
            base,
            fingerprint("Error", "", "getaddrinfo ENOTFOUND db.local", "")
        );
        assert_ne!(
            base,
            fingerprint("TypeError", "", "connect ECONNREFUSED 127.0.0.1:80", "")
        );
        assert_ne!(
            base,
            fingerprint(
                "Error",
                "ECONNREFUSED",
                "connect ECONNREFUSED 127.0.0.1:80",
                ""
            )
        );
        let msg = "Cannot read properties of undefined (reading 'id')";
        let other = STACK_A.replace("getUser", "getOrder");
        assert_ne!(
            fingerprint("TypeError", "", msg, STACK_A),
            fingerprint("TypeError", "", msg, &other)
        );
        assert_ne!(
            fingerprint("TypeError", "", msg, STACK_A),
            fingerprint(
                "TypeError",
                "",
                "Cannot read properties of null (reading 'id')",
                STACK_A
            )
        );
    }

    #[test]
    fn stack_depth_beyond_ten_frames_is_ignored() {
        let frame = "    at recurse (/app/r.js:1:1)\n";
        let deep = format!(
            "RangeError: Maximum call stack size exceeded\n{}",
            frame.repeat(30)
        );
        let deeper = format!(
            "RangeError: Maximum call stack size exceeded\n{}",
            frame.repeat(50)
        );
        assert_eq!(normalize_stack(&deep), normalize_stack(&deeper));
        assert_eq!(normalize_stack(&deep).lines().count(), MAX_FRAMES);
    }

    #[test]
    fn frames_without_parentheses_and_windows_paths() {
        assert_eq!(
            normalize_stack(
                "Error: x\n    at /app/index.js:10:3\n    at C:\\srv\\app\\main.js:5:1"
            ),
            "at (index.js)\nat (main.js)"
        );
        assert_eq!(
            normalize_stack("    at async Promise.all (index 0)"),
            "at async Promise.all (index #)"
        );
    }

    #[test]
    fn long_and_non_ascii_messages_are_safe() {
        let long = "é".repeat(5000);
        let n = normalize_message(&long);
        assert!(n.len() <= MAX_MESSAGE_BYTES);
        assert!(n.chars().all(|c| c == 'é'));
        assert_eq!(
            normalize_message("fichier « données » 42"),
            "fichier « données » #"
        );
    }

    #[test]
    fn hex_round_trip() {
        let fp = fingerprint("Error", "", "boom", "");
        let hex = to_hex(fp);
        assert_eq!(hex.len(), 16);
        assert_eq!(from_hex(&hex), Some(fp));
        assert_eq!(from_hex("xyz"), None);
    }
}

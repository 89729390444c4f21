//! Error fingerprints: a 64-bit hash of an error's normalized name, code, message and stack.
//!
//! Two occurrences of the same fault should share one fingerprint (and so one cached piece of
//! advice) even when they differ in the parts that change from one occurrence to the next:
//! line and column numbers, hex addresses, ids, UUIDs, numbers, ports and absolute paths.
//! Normalization replaces those parts with stable placeholders; different faults keep
//! different words and frames, so they keep different fingerprints.
//!
//! Runs on the JS thread for every error, so the scanner is one pass with a byte-class
//! table, writes into a reused buffer and hashes 8 bytes per step.

use super::line_memo::LineMemo;

/// Bytes of the message that take part in the fingerprint; longer tails are usually payloads.
const MAX_MESSAGE_BYTES: usize = 2048;
/// Stack frames that take part: deep recursion or async depth must not split a fingerprint.
const MAX_FRAMES: usize = 10;

/// The fingerprint of an error.
pub fn fingerprint(name: &str, code: &str, message: &str, stack: &str) -> u64 {
    thread_local! {
        // Reused between calls: fingerprinting runs once per error on the JS thread.
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUF.with(|buf| {
        let mut guard = buf.borrow_mut();
        let out = &mut *guard;
        out.clear();
        out.extend_from_slice(name.trim().as_bytes());
        out.push(0);
        out.extend_from_slice(code.trim().as_bytes());
        out.push(0);
        write_message(message, out);
        out.push(0);
        write_stack(stack, out);
        let h = hash64(out);
        if out.capacity() > 64 * 1024 {
            *out = Vec::new();
        }
        h
    })
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
    let mut out = Vec::new();
    write_message(message, &mut out);
    into_string(out)
}

/// The stack's frames (`at …` lines, at most ten) with line and column numbers removed and
/// paths reduced to their file name, one frame per line. Other lines (the message) are skipped.
pub fn normalize_stack(stack: &str) -> String {
    let mut out = Vec::new();
    write_stack(stack, &mut out);
    into_string(out)
}

fn write_message(message: &str, out: &mut Vec<u8>) {
    let cut = floor_char_boundary(message, MAX_MESSAGE_BYTES);
    Normalizer::new(out, PathMode::Placeholder).text(&message.as_bytes()[..cut]);
}

/// Frame lines longer than this are normalized without the memo.
const FRAME_MEMO_MAX_LINE: usize = 1024;
const FRAME_MEMO_MAX_ENTRIES: usize = 4096;
const FRAME_MEMO_MAX_BYTES: usize = 512 * 1024;

thread_local! {
    // Normalized frames of recent frame lines: a storm's stacks repeat their frames, and
    // normalizing ten of them was most of the cost of fingerprinting an error (~1 µs).
    static FRAMES: std::cell::RefCell<LineMemo<Box<[u8]>>> = std::cell::RefCell::new(
        LineMemo::new(FRAME_MEMO_MAX_LINE, FRAME_MEMO_MAX_ENTRIES, FRAME_MEMO_MAX_BYTES),
    );
}

fn write_stack(stack: &str, out: &mut Vec<u8>) {
    let frames = stack
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("at "))
        .take(MAX_FRAMES);
    FRAMES.with(|memo| {
        let mut memo = memo.try_borrow_mut().ok();
        for (i, frame) in frames.enumerate() {
            if i > 0 {
                out.push(b'\n');
            }
            let kept = memo.as_mut().and_then(|m| {
                m.get_or_make(
                    frame,
                    |v| v.len(),
                    |f| {
                        let mut v = Vec::new();
                        write_frame(f.as_bytes(), &mut v);
                        v.into_boxed_slice()
                    },
                )
            });
            match kept {
                Some(normalized) => out.extend_from_slice(normalized),
                None => write_frame(frame.as_bytes(), out),
            }
        }
    });
}

fn write_frame(frame: &[u8], out: &mut Vec<u8>) {
    // `at fn (location)` or `at location`; the location is `path:line:col` or `native`.
    let (head, location) = match (frame.iter().position(|&b| b == b'('), frame.last()) {
        (Some(open), Some(b')')) => (&frame[..open], &frame[open + 1..frame.len() - 1]),
        _ => (&b""[..], &frame[3.min(frame.len())..]),
    };
    if head.is_empty() {
        out.extend_from_slice(b"at ");
    } else {
        Normalizer::new(out, PathMode::Placeholder).text(head);
        out.push(b' ');
    }
    let location = strip_line_col(location);
    let file = match location.iter().rposition(|&b| b == b'/' || b == b'\\') {
        Some(i) => &location[i + 1..],
        None => location,
    };
    out.push(b'(');
    Normalizer::new(out, PathMode::Keep).text(file);
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

const WORD: u8 = 1;
const SPACE: u8 = 2;
const HEX: u8 = 4;
const DIGIT: u8 = 8;
const PATH_END: u8 = 16;

/// Byte classes, so the scanner does one table lookup per byte.
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_alphanumeric() || b == b'_' {
            c |= WORD;
        }
        if b.is_ascii_hexdigit() {
            c |= HEX;
        }
        if b.is_ascii_digit() {
            c |= DIGIT;
        }
        if b.is_ascii_whitespace() {
            c |= SPACE | PATH_END;
        }
        if matches!(b, b'\'' | b'"' | b'`' | b'(' | b')' | b',' | b';') {
            c |= PATH_END;
        }
        t[i] = c;
        i += 1;
    }
    t
};

#[inline]
fn class(b: u8) -> u8 {
    CLASS[b as usize]
}

/// Writes normalized text; runs of whitespace become one space, none at either end.
struct Normalizer<'a> {
    out: &'a mut Vec<u8>,
    paths: PathMode,
    space: bool,
    started: bool,
}

impl<'a> Normalizer<'a> {
    fn new(out: &'a mut Vec<u8>, paths: PathMode) -> Self {
        Self {
            out,
            paths,
            space: false,
            started: false,
        }
    }

    #[inline]
    fn emit(&mut self, bytes: &[u8]) {
        if self.space && self.started {
            self.out.push(b' ');
        }
        self.space = false;
        self.started = true;
        self.out.extend_from_slice(bytes);
    }

    fn text(mut self, s: &[u8]) {
        let mut i = 0;
        while i < s.len() {
            let b = s[i];
            let c = class(b);
            if c & SPACE != 0 {
                self.space = true;
                i += 1;
                continue;
            }
            if self.paths == PathMode::Placeholder && starts_path(s, i) {
                i += s[i..]
                    .iter()
                    .take_while(|&&x| class(x) & PATH_END == 0)
                    .count();
                self.emit(b"<path>");
                continue;
            }
            if c & WORD == 0 {
                // Plain punctuation and non-ASCII bytes: copy the whole run at once.
                let run = s[i..]
                    .iter()
                    .take_while(|&&x| {
                        let k = class(x);
                        k & (WORD | SPACE) == 0 && x != b'/' && x != b'\\'
                    })
                    .count()
                    .max(1);
                self.emit(&s[i..i + run]);
                i += run;
                continue;
            }
            let mut end = i;
            let mut digits = 0;
            let mut hex = true;
            while end < s.len() {
                let k = class(s[end]);
                if k & WORD == 0 {
                    break;
                }
                digits += usize::from(k & DIGIT != 0);
                hex &= k & HEX != 0;
                end += 1;
            }
            if hex && end - i == 8 && s.get(end) == Some(&b'-') && is_uuid_at(s, i) {
                self.emit(b"<uuid>");
                i += 36;
                continue;
            }
            let w = &s[i..end];
            if digits == w.len() {
                self.emit(b"#");
            } else if w.len() > 2 && (w[..2] == *b"0x" || w[..2] == *b"0X") && is_hex(&w[2..]) {
                self.emit(b"<hex>");
            } else if digits >= 4 || (digits > 0 && hex && w.len() >= 8) {
                self.emit(b"<id>");
            } else {
                self.emit(w);
            }
            i = end;
        }
    }
}

fn is_hex(s: &[u8]) -> bool {
    s.iter().all(|&b| class(b) & HEX != 0)
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
    s.get(p).is_none_or(|&b| class(b) & WORD == 0)
}

/// An absolute path starts with `/` (or `X:\`) after a separator and holds another separator.
#[inline]
fn starts_path(s: &[u8], i: usize) -> bool {
    let b = s[i];
    if b != b'/' && !(b.is_ascii_alphabetic() && s.get(i + 1) == Some(&b':')) {
        return false;
    }
    let after_sep = i == 0 || matches!(s[i - 1], b' ' | b'\'' | b'"' | b'`' | b'(' | b'=');
    if !after_sep {
        return false;
    }
    let rest = &s[i..];
    let body = if b == b'/' {
        &rest[1..]
    } else if rest.len() > 3 && rest[2] == b'\\' {
        &rest[3..]
    } else {
        return false;
    };
    body.iter()
        .take_while(|&&c| class(c) & PATH_END == 0)
        .any(|&c| c == b'/' || c == b'\\')
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

fn into_string(out: Vec<u8>) -> String {
    // Only ASCII runs are replaced, so multi-byte sequences stay whole.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A fast 64-bit hash of the normalized text: 8 bytes per multiply-xorshift step, then the
/// splitmix64 finalizer. Deterministic across processes and platforms (little-endian reads),
/// so a fingerprint logged by one instance matches another's.
fn hash64(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = 0xcbf2_9ce4_8422_2325 ^ (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K);
        h ^= h >> 29;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K);
        h ^= h >> 29;
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_frames_give_the_same_fingerprint() {
        let stacks: Vec<String> = (0..50)
            .map(|i| {
                format!(
                    "Error: boom {i}\n    at f{} (/srv/app/a{}.js:{i}:7)\n    at Object.<anonymous> (/srv/app/b.js:3:1)\n    at node:internal/main:28:49",
                    i % 3,
                    i % 5
                )
            })
            .collect();
        let fresh = |s: String| {
            std::thread::spawn(move || fingerprint("Error", "", "boom", &s))
                .join()
                .unwrap_or(0)
        };
        for s in &stacks {
            let warm = fingerprint("Error", "", "boom", s);
            assert_eq!(warm, fingerprint("Error", "", "boom", s));
            assert_eq!(
                warm,
                fresh(s.clone()),
                "a memo hit equals a fresh normalization"
            );
        }
    }

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

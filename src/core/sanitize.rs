//! Secret redaction for log lines and AI prompts.
//!
//! [`redact`] applies exactly the rules of `lib/policy/redaction.js` (`sanitizeMessage`),
//! in the same order with the same replacement texts; the JS tests compare both on a
//! shared corpus. The `regex` crate runs in linear time on any input, so a 1 MB string
//! or an adversarial one cannot stall a caller.
//!
//! JS and Rust regex dialects differ, so every rule is written in the common subset:
//! ASCII classes instead of `\w`/`\d`/`\s` (Unicode-aware here, ASCII in JS), ASCII
//! word boundaries (`(?-u:\b)`), and ASCII-only case folding (`(?i-u:…)`; JS without
//! the `u` flag never folds non-ASCII letters onto ASCII ones). The JS side anchors some
//! rules with lookbehinds to stay linear; those anchors never change which text
//! matches (see the comments in the JS module), so the leftmost-first results agree.
//!
//! Every rule is line-local, which [`redact_lines`] relies on: no pattern can match a `\n`
//! (blanks are `[ \t]`, value classes exclude `\n`, `.` in `\\.` does not match it) except
//! the `(^|[^A-Za-z0-9_-])` lead of the credential and JWT rules, whose lead may be the `\n`
//! ending the previous line. That lead is kept in the output, and it plays exactly the part
//! `^` plays at the start of the line on its own (tried first, at the same text), so the
//! per-line result is the same. `\b` sees a non-word character both at a `\n` and at the
//! ends of the text, and no rule can match an empty string. Replacements never add or
//! remove a `\n`, so every rule maps line i of its input to line i of its output, and so
//! does the whole chain of rules.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::OnceLock;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use super::line_memo::LineMemo;

/// Sensitive key names: a `key=value` / `key: value` pair whose key contains one of
/// these (case-insensitively) has its value redacted.
const KEYWORDS: &str = "password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|authorization|cvv|cvc|ssn";

enum Replace {
    Fixed(&'static str),
    /// Keep capture group 1 and append `[REDACTED]`.
    Prefix,
    /// Keep capture group 1 (the character before the match) and append the text.
    Lead(&'static str),
    /// `key=value`: keep key and separator; a quoted value keeps its quotes.
    Credential,
}

struct Rule {
    re: Regex,
    replace: Replace,
}

/// The rules, and all their patterns as one set: a string none of them matches is
/// returned as it is after one scan. That is exact: if no rule matches the input, the
/// first rule leaves it unchanged, so the second sees the same input, and so on. Error
/// messages and stack lines are full of `:` and digit runs, which a substring pre-check
/// let through to all twelve scans (~1.3 µs for a 40-byte message).
fn rules() -> &'static (Option<RegexSet>, Vec<Rule>) {
    static RULES: OnceLock<(Option<RegexSet>, Vec<Rule>)> = OnceLock::new();
    RULES.get_or_init(|| {
        let specs: Vec<(String, Replace)> = vec![
            (
                r"[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,}".into(),
                Replace::Fixed("[EMAIL-REDACTED]"),
            ),
            (
                r"((?-u:\b)(?i-u:bearer)[ \t]+)[A-Za-z0-9._~+/-]+=*".into(),
                Replace::Prefix,
            ),
            (
                format!(
                    r#"((?:^|[^A-Za-z0-9_-])[A-Za-z0-9_-]*(?i-u:{KEYWORDS})[A-Za-z0-9_-]*["']?[ \t]*[:=][ \t]*)("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|(?:(?i-u:bearer|basic)[ \t]+)?[^ \t\r\n\x0B\x0C}}]+)"#
                ),
                Replace::Credential,
            ),
            (
                r"(?-u:\b)(?:AKIA|ASIA)[0-9A-Z]{16}(?-u:\b)".into(),
                Replace::Fixed("[AWS-KEY-REDACTED]"),
            ),
            (
                r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})".into(),
                Replace::Fixed("[GITHUB-TOKEN-REDACTED]"),
            ),
            (
                r"(?-u:\b)sk-[A-Za-z0-9_-]{20,}".into(),
                Replace::Fixed("[OPENAI-KEY-REDACTED]"),
            ),
            (
                r"(?-u:\b)AIza[A-Za-z0-9_-]{35}".into(),
                Replace::Fixed("[GOOGLE-KEY-REDACTED]"),
            ),
            (
                r"(?-u:\b)xox[abprs]-[A-Za-z0-9-]{10,}".into(),
                Replace::Fixed("[SLACK-TOKEN-REDACTED]"),
            ),
            (
                r"(^|[^A-Za-z0-9_-])eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*".into(),
                Replace::Lead("[JWT-REDACTED]"),
            ),
            (
                r"(?-u:\b)(?:[0-9]{4}[ -]?[0-9]{6}[ -]?[0-9]{5}|(?:[0-9]{4}[ -]?){3}[0-9]{4})(?-u:\b)".into(),
                Replace::Fixed("[CARD-REDACTED]"),
            ),
            (
                r"(?-u:\b)[0-9]{3}-?[0-9]{2}-?[0-9]{4}(?-u:\b)".into(),
                Replace::Fixed("[SSN-REDACTED]"),
            ),
            (
                r"(?:\+1[-. ]?)?(?:\([0-9]{3}\)|(?-u:\b)[0-9]{3})[-. ]?[0-9]{3}[-. ]?[0-9]{4}(?-u:\b)"
                    .into(),
                Replace::Fixed("[PHONE-REDACTED]"),
            ),
        ];
        let gate = RegexSetBuilder::new(specs.iter().map(|(src, _)| src))
            .dfa_size_limit(16 << 20)
            .build()
            .ok();
        let compiled = specs
            .into_iter()
            .filter_map(|(src, replace)| compile(&src).map(|re| Rule { re, replace }))
            .collect();
        // The patterns are constants; `all_rules_compile` below proves they compile.
        (gate, compiled)
    })
}

/// Compiles the rules now (they are otherwise compiled by the first redaction).
pub fn warm() {
    rules();
}

/// A bigger lazy-DFA cache than the default, so long inputs do not thrash it.
fn compile(src: &str) -> Option<Regex> {
    RegexBuilder::new(src).dfa_size_limit(16 << 20).build().ok()
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Length of the leading character when it is not a key character (the `(^|[^…])` group).
fn lead_len(m: &str) -> usize {
    match m.chars().next() {
        Some(c) if !(c.is_ascii_alphanumeric() || c == '_' || c == '-') => c.len_utf8(),
        _ => 0,
    }
}

/// Writes the replacement of one match. The groups are recovered from the match text,
/// whose shape the pattern fixes, instead of asking the regex for captures: capture
/// resolution runs a slower engine per match and cost 30x the search on secret-dense text
/// when measured.
fn rewrite(replace: &Replace, m: &str, out: &mut String) {
    match replace {
        Replace::Fixed(text) => out.push_str(text),
        Replace::Prefix => {
            // `bearer[ \t]+` then the token.
            let b = m.as_bytes();
            let mut i = 6;
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            out.push_str(&m[..i]);
            out.push_str("[REDACTED]");
        }
        Replace::Lead(text) => {
            out.push_str(&m[..lead_len(m)]);
            out.push_str(text);
        }
        Replace::Credential => {
            // lead, key run, optional quote, blanks, `:`/`=`, blanks, then the value.
            let b = m.as_bytes();
            let mut i = lead_len(m);
            while i < b.len() && is_key_byte(b[i]) {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                i += 1;
            }
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            i += 1;
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            let i = i.min(b.len());
            out.push_str(&m[..i]);
            match b.get(i) {
                Some(b'"') => out.push_str("\"[REDACTED]\""),
                Some(b'\'') => out.push_str("'[REDACTED]'"),
                _ => out.push_str("[REDACTED]"),
            }
        }
    }
}

/// Redacts secrets (e-mail addresses, credentials in `key=value` form, bearer tokens,
/// AWS/GitHub/OpenAI/Google/Slack keys, JWTs, card numbers, SSNs, US phone numbers).
/// Returns the input borrowed when nothing matched.
pub fn redact(input: &str) -> Cow<'_, str> {
    let (gate, rules) = rules();
    if gate.as_ref().is_some_and(|g| !g.is_match(input)) {
        return Cow::Borrowed(input);
    }
    let mut out = Cow::Borrowed(input);
    for rule in rules {
        let text: &str = &out;
        let mut replaced: Option<String> = None;
        let mut last = 0;
        for m in rule.re.find_iter(text) {
            let dst = replaced.get_or_insert_with(|| String::with_capacity(text.len()));
            dst.push_str(&text[last..m.start()]);
            rewrite(&rule.replace, m.as_str(), dst);
            last = m.end();
        }
        if let Some(mut dst) = replaced {
            dst.push_str(&text[last..]);
            out = Cow::Owned(dst);
        }
    }
    out
}

/// Lines longer than this are redacted without the cache: frame lines are ~100 bytes, and a
/// long line is rarely repeated verbatim.
const LINE_CACHE_MAX_LINE: usize = 1024;
/// Entry bound of the per-thread line cache: an error storm's frames are a few hundred lines.
const LINE_CACHE_MAX_ENTRIES: usize = 4096;
/// Byte bound (lines, their redactions and a per-entry overhead) of the per-thread cache.
const LINE_CACHE_MAX_BYTES: usize = 512 * 1024;

/// Recent lines and their redaction (`None`: unchanged).
struct LineCache(LineMemo<Option<Box<str>>>);

impl Default for LineCache {
    fn default() -> Self {
        Self(LineMemo::new(
            LINE_CACHE_MAX_LINE,
            LINE_CACHE_MAX_ENTRIES,
            LINE_CACHE_MAX_BYTES,
        ))
    }
}

impl LineCache {
    /// Calls `f` with the redaction of `line` (`None` when unchanged), from the cache when
    /// it is a frame line seen recently.
    fn with_line<R>(&mut self, line: &str, f: impl FnOnce(Option<&str>) -> R) -> R {
        // Only frame lines repeat; the message line is new with every error, and keeping
        // it would only churn the cache.
        let kept = if !line.trim_start().starts_with("at ") {
            None
        } else {
            self.0.get_or_make(
                line,
                |v| v.as_ref().map_or(0, |v| v.len()),
                |l| match redact(l) {
                    Cow::Borrowed(_) => None,
                    Cow::Owned(s) => Some(s.into_boxed_str()),
                },
            )
        };
        match kept {
            Some(v) => f(v.as_deref()),
            None => match redact(line) {
                Cow::Borrowed(_) => f(None),
                Cow::Owned(s) => f(Some(&s)),
            },
        }
    }

    fn redact<'a>(&mut self, input: &'a str) -> Cow<'a, str> {
        let mut out: Option<String> = None;
        // `input[..last]` is already in `out`.
        let mut last = 0;
        let mut start = 0;
        for line in input.split('\n') {
            if !line.is_empty() {
                self.with_line(line, |new| {
                    if let Some(new) = new {
                        let dst =
                            out.get_or_insert_with(|| String::with_capacity(input.len() + 64));
                        dst.push_str(&input[last..start]);
                        dst.push_str(new);
                        last = start + line.len();
                    }
                });
            }
            start += line.len() + 1;
        }
        match out {
            None => Cow::Borrowed(input),
            Some(mut dst) => {
                dst.push_str(&input[last..]);
                Cow::Owned(dst)
            }
        }
    }
}

thread_local! {
    static LINE_CACHE: RefCell<LineCache> = RefCell::new(LineCache::default());
}

/// [`redact`], line by line through a small per-thread cache of recent lines: stack traces
/// repeat the same frame lines from one error to the next, and a cached line costs a hash
/// lookup instead of the rule scans. Always equal to `redact(input)` (the rules are
/// line-local, see the module docs). Returns the input borrowed when nothing matched.
pub fn redact_lines(input: &str) -> Cow<'_, str> {
    LINE_CACHE.with(|cache| match cache.try_borrow_mut() {
        Ok(mut cache) => cache.redact(input),
        // Not re-entered today (redaction calls nothing back); stay correct if it ever is.
        Err(_) => redact(input),
    })
}

/// Number of compiled rules; the tests check that every pattern compiled.
pub fn rule_count() -> usize {
    rules().1.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn all_rules_compile() {
        assert_eq!(rule_count(), 12);
        assert_eq!(rules().0.as_ref().map(RegexSet::len), Some(12));
    }

    #[test]
    fn golden_rows() {
        let rows = [
            ("password=hunter2 and more", "password=[REDACTED] and more"),
            ("my password: hunter2", "my password: [REDACTED]"),
            (
                "token=abc123 secret=xyz",
                "token=[REDACTED] secret=[REDACTED]",
            ),
            (
                "api_key=KEY123 apikey=K2 api-key: K3",
                "api_key=[REDACTED] apikey=[REDACTED] api-key: [REDACTED]",
            ),
            ("card 4111 1111 1111 1111 here", "card [CARD-REDACTED] here"),
            ("my key is 4111111111111111", "my key is [CARD-REDACTED]"),
            ("ssn 123-45-6789 here", "ssn [SSN-REDACTED] here"),
            ("cvv: 123 and card", "cvv: [REDACTED] and card"),
            ("call 555-123-4567 phone", "call [PHONE-REDACTED] phone"),
            ("phone (555) 123-4567 call", "phone [PHONE-REDACTED] call"),
            ("PASSWORD=Abc}rest", "PASSWORD=[REDACTED]}rest"),
            (
                "contact me at john.doe@example.com please",
                "contact me at [EMAIL-REDACTED] please",
            ),
            ("api_key=KEY123 foo", "api_key=[REDACTED] foo"),
            ("user_password=abc123", "user_password=[REDACTED]"),
            ("mytoken=abc12345", "mytoken=[REDACTED]"),
            ("the token: abc123 x", "the token: [REDACTED] x"),
            ("secret:abc def", "secret:[REDACTED] def"),
            (
                "email a@b.co token=zz",
                "email [EMAIL-REDACTED] token=[REDACTED]",
            ),
            ("12345678901", "12345678901"),
            ("{password:x,nested:{a:1}}", "{password:[REDACTED]}}"),
            ("Authorization: Bearer abc.def", "Authorization: [REDACTED]"),
            ("sent Bearer abc.def=", "sent Bearer [REDACTED]"),
            (
                "{\"password\":\"a b\",\"u\":1}",
                "{\"password\":\"[REDACTED]\",\"u\":1}",
            ),
            ("id AKIAABCDEFGHIJKLMNOP x", "id [AWS-KEY-REDACTED] x"),
            (
                "k sk-proj-abcdefghijklmnopqrstuvwx y",
                "k [OPENAI-KEY-REDACTED] y",
            ),
            ("q?user=bob&token=abc", "q?user=bob&token=[REDACTED]"),
        ];
        for (input, want) in rows {
            assert_eq!(redact(input), want, "input {input:?}");
        }
    }

    #[test]
    fn unchanged_input_is_borrowed() {
        assert!(matches!(redact("plain words only"), Cow::Borrowed(_)));
        assert!(matches!(
            redact("TypeError: x is undefined"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn no_ascii_folding_of_non_ascii_letters() {
        // U+017F (long s) folds to 's' in Unicode; JS without the u flag does not fold it.
        assert_eq!(redact("pa\u{17f}\u{17f}word=x1"), "pa\u{17f}\u{17f}word=x1");
    }

    #[test]
    fn large_and_adversarial_inputs_finish() {
        let big = "a".repeat(1 << 20);
        assert!(matches!(redact(&big), Cow::Borrowed(_)));
        let tokens = "token".repeat(200_000);
        assert_eq!(redact(&tokens), tokens);
        let ats = "a@".repeat(300_000);
        assert_eq!(redact(&ats).len(), ats.len());
        let digits = "1".repeat(1 << 20);
        assert_eq!(redact(&digits), digits);
    }

    const STACK: &str = "Error: failure 7 at port 3007\n    at Server.handle (/srv/app/node_modules/express/lib/router/layer.js:95:5)\n    at next (/srv/app/node_modules/express/lib/router/route.js:149:13)\n    at Route.dispatch (/srv/app/node_modules/express/lib/router/route.js:119:3)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)";

    #[test]
    fn lines_equal_whole_string_redaction() {
        let rows = [
            STACK.to_owned(),
            format!("{STACK}\n    at login (/srv/a.js:1:1) password=hunter2\n"),
            "a\npassword=x\n\ntoken: y\r\nBearer abc.def\nx@y.io\n".to_owned(),
            // The lead of the credential and JWT rules is the `\n` in whole-string mode.
            "x\napi_key=1\neyJa.eyJb.c\n-eyJa.eyJb.c\nzeyJa.eyJb.c".to_owned(),
            "555-123-4567\n4111 1111 1111 1111\n123-45-6789\n".to_owned(),
            "pwd=\"a\\\nb\"\n'secret'='x\\'\n".to_owned(),
            "pwd=\"a\rb\"\r\ntoken='\r'\n".to_owned(),
            String::new(),
            "\n\n\n".to_owned(),
            format!("{}\npassword=z", "sk-".repeat(600)),
        ];
        for input in &rows {
            // Twice: the second pass is served from the cache.
            for _ in 0..2 {
                assert_eq!(redact_lines(input), redact(input), "input {input:?}");
            }
        }
    }

    #[test]
    fn unchanged_lines_are_borrowed_and_cached() {
        assert!(matches!(redact_lines(STACK), Cow::Borrowed(_)));
        assert!(matches!(redact_lines(STACK), Cow::Borrowed(_)));
        LINE_CACHE.with(|c| {
            let mut c = c.borrow_mut();
            let line = "    at next (/srv/app/node_modules/express/lib/router/route.js:149:13)";
            let kept =
                c.0.get_or_make(line, |_| 0, |_| panic!("the line was cached"));
            assert_eq!(kept, Some(&None));
        });
        let secret = format!("{STACK}\n    at x (token=abc:1:1)");
        let want = format!("{STACK}\n    at x (token=[REDACTED]");
        assert_eq!(redact_lines(&secret), want);
        assert_eq!(redact_lines(&secret), want);
    }

    #[test]
    fn line_cache_stays_bounded() {
        let mut cache = LineCache::default();
        let mut max_bytes = 0;
        for i in 0..3 * LINE_CACHE_MAX_ENTRIES {
            // Unique lines, half of them redacted, some near the length limit.
            let line = if i % 2 == 0 {
                format!("    at f{i} (/srv/a.js:{i}:1)")
            } else {
                format!("    at token={i} {}", "x".repeat(i % LINE_CACHE_MAX_LINE))
            };
            assert_eq!(cache.redact(&line), redact(&line));
            assert!(cache.0.entries() <= LINE_CACHE_MAX_ENTRIES);
            assert!(cache.0.bytes() <= LINE_CACHE_MAX_BYTES);
            max_bytes = max_bytes.max(cache.0.bytes());
        }
        assert!(
            max_bytes > LINE_CACHE_MAX_BYTES / 2,
            "the byte bound was reached"
        );
        // Lines above the length limit are never stored.
        let long = format!("    at password={}", "y".repeat(LINE_CACHE_MAX_LINE));
        let before = cache.0.entries();
        assert_eq!(cache.redact(&long), redact(&long));
        assert_eq!(cache.0.entries(), before);
    }

    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => prop::sample::select(vec![
                "\n", "\n", "\r", "\r\n", " ", "\t", ":", "=", ": ", "\"", "'", "\\", "}", "-", ".", "/", "(", ")",
                "password", "Token", "api_key", "secret", "pwd", "cvv", "ssn", "Authorization",
                "Bearer ", "bearer\t", "basic ", "a@b.co", "john.doe@example.com", "@",
                "sk-abcdefghijklmnopqrstuvwx", "sk-", "eyJhbGci", "eyJ", "AKIAABCDEFGHIJKLMNOP",
                "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "xoxb-1234567890", "AIza",
                "    at f (/srv/a.js:12:5)", "é", "\u{17f}",
                // Half-built credentials, so keys, separators, quotes and line breaks meet.
                "password=\"", "token: '", "secret=", "api-key: \"a b", "pwd='x\\",
            ])
            .prop_map(str::to_owned),
            2 => "[0-9]{1,5}",
            1 => "[a-zA-Z_]{1,6}",
            1 => "[0-9 -]{3,20}",
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2048, ..Default::default() })]
        #[test]
        fn lines_match_whole_string(parts in proptest::collection::vec(token(), 0..40)) {
            let input = parts.concat();
            proptest::prop_assert_eq!(redact_lines(&input), redact(&input));
            // Again, through the entries the first call cached.
            proptest::prop_assert_eq!(redact_lines(&input), redact(&input));
        }
    }
}

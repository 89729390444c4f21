//! The text rules: what a secret looks like in a log line, an HTTP answer or an AI prompt.
//!
//! Each rule is a pattern that finds a candidate and an [`Action`] that decides what the
//! candidate becomes. Some actions check the candidate first (a card number's Luhn digit, a
//! key name against the vocabulary of [`super::keys`], a `Basic` value that must decode to
//! `user:password`) and may decline it; the search then goes on after the candidate.
//!
//! The provider formats were chosen from what public secret scanners document that they
//! detect (token prefixes and lengths of Stripe, Slack, GitHub, GitLab, npm, PyPI, SendGrid,
//! Twilio, Shopify, DigitalOcean, Vault, Hugging Face, Google, Databricks, Discord, Telegram
//! and others); the patterns themselves are written for this crate. docs/redaction.md lists
//! the forms and the corpus that measures them.
//!
//! The `regex` crate runs in time linear in the text for one search; every action resumes
//! after the text it looked at, so a whole pass is linear too.

use super::keys::{is_sensitive_key, vocabulary};

/// What a rule's match becomes.
#[derive(Clone, Copy)]
pub enum Action {
    /// The whole match becomes the label.
    Label(&'static str),
    /// The whole match becomes the label when `check` accepts it.
    Checked(&'static str, fn(&str) -> bool),
    /// `Bearer`/`Basic` + blanks stay, the credential after them becomes `[REDACTED]` when
    /// `check` accepts it.
    Scheme(fn(&str) -> bool),
    /// A leading non-key character (the `(^|[^…])` group) stays, the rest becomes the label.
    Lead(&'static str),
    /// `key` + separator: when the key is sensitive, the value after the separator (parsed
    /// here, not by the pattern) becomes `[REDACTED]`.
    KeyValue,
    /// `<tag …>`: when the tag name is sensitive, the text up to the next `<` is redacted.
    XmlElement,
    /// `scheme://user:password@`: the password becomes `[REDACTED]`.
    UrlPassword,
    /// A command line's password argument (`-pPASS`, `-u user:PASS`): everything after the
    /// last `-p` or after the first `:` of the user argument becomes `[REDACTED]`.
    CliPassword,
}

pub struct RuleSpec {
    /// The rule's name in docs/redaction.md; the tests report failures by it.
    #[cfg_attr(not(test), allow(dead_code))]
    pub name: &'static str,
    pub pattern: String,
    pub action: Action,
}

/// Characters of a key run (`api_key`, `x-api-key`).
pub fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The rules, in the order they apply.
pub fn specs() -> Vec<RuleSpec> {
    let triggers = vocabulary().trigger_words().join("|");
    let r = |name, pattern: &str, action| RuleSpec {
        name,
        pattern: pattern.to_owned(),
        action,
    };
    vec![
        // A PEM private key, to its END line, or to the end of the text when cut off.
        r(
            "pem-private-key",
            r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\z)",
            Action::Label("[PRIVATE-KEY-REDACTED]"),
        ),
        r(
            "url-credentials",
            r#"(?-u:\b)[A-Za-z][A-Za-z0-9+.-]{0,20}://[^:/?#@ \t\r\n"'<>]*:[^/ \t\r\n"'<>]+@"#,
            Action::UrlPassword,
        ),
        r(
            "email",
            r"[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,}",
            Action::Label("[EMAIL-REDACTED]"),
        ),
        r(
            "bearer",
            r"(?-u:\b)(?i-u:bearer)[ \t]+[A-Za-z0-9._~+/-]+=*",
            Action::Scheme(looks_like_token),
        ),
        r(
            "basic",
            r"(?-u:\b)(?i-u:basic)[ \t]+[A-Za-z0-9+/]{4,}={0,2}",
            Action::Scheme(is_basic_credential),
        ),
        RuleSpec {
            name: "key-value",
            // lead, key run holding a vocabulary word (plus one more word after a space:
            // `API Key: x`), an optional (escaped) closing quote, blanks, the separator.
            pattern: format!(
                r#"(?:^|[^A-Za-z0-9_-])[A-Za-z0-9_-]*(?i-u:{triggers})[A-Za-z0-9_-]*(?: [A-Za-z][A-Za-z0-9_-]*)?(?:\\?["'])?[ \t]*(?:[:=]|%3[DdAa])"#
            ),
            action: Action::KeyValue,
        },
        RuleSpec {
            name: "xml-element",
            pattern: format!(
                r"<[A-Za-z0-9_:.-]*(?i-u:{triggers})[A-Za-z0-9_:.-]*(?:[ \t][^<>\n]*)?>"
            ),
            action: Action::XmlElement,
        },
        r(
            "cli-password",
            r#"(?:(?-u:\b)(?:mysql[a-z]*|mariadb)(?-u:\b)[^\n]*?[ \t]-p[^ \t\r\n`'"()-][^ \t\r\n`]*|(?:^|[ \t])(?:-u|--user|--proxy-user)(?:[ \t]+|=)['"]?[^ \t\r\n:'"]*:[^ \t\r\n'"]+)"#,
            Action::CliPassword,
        ),
        r(
            "aws-key",
            r"(?-u:\b)(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[0-9A-Z]{16}(?-u:\b)",
            Action::Label("[AWS-KEY-REDACTED]"),
        ),
        r(
            "github-token",
            r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
            Action::Label("[GITHUB-TOKEN-REDACTED]"),
        ),
        r(
            "openai-key",
            r"(?-u:\b)sk-[A-Za-z0-9_-]{20,}",
            Action::Label("[OPENAI-KEY-REDACTED]"),
        ),
        r(
            "google-key",
            r"(?-u:\b)AIza[A-Za-z0-9_-]{35}",
            Action::Label("[GOOGLE-KEY-REDACTED]"),
        ),
        r(
            "slack-token",
            r"(?-u:\b)(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,})",
            Action::Label("[SLACK-TOKEN-REDACTED]"),
        ),
        r(
            "provider-token",
            concat!(
                r"(?-u:\b)(?:",
                r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,}",
                r"|gl(?:pat|ptt|dt|rt|cbt|oas|soat|ft|imt|agent)-[A-Za-z0-9_-]{20,}",
                r"|npm_[A-Za-z0-9]{36}|pypi-AgE[A-Za-z0-9_-]{50,}|rubygems_[a-f0-9]{48}",
                r"|SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{30,50}|SK[0-9a-f]{32}",
                r"|shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}|do[opr]_v1_[a-f0-9]{64}",
                r"|hv[sb]\.[A-Za-z0-9_-]{24,}|hf_[A-Za-z0-9]{30,}|ya29\.[A-Za-z0-9_-]{20,}",
                r"|GOCSPX-[A-Za-z0-9_-]{20,}|dapi[a-f0-9]{32}|key-[0-9a-z]{32}",
                r"|[0-9a-f]{32}-us[0-9]{1,2}|sq0(?:atp|csp)-[A-Za-z0-9_-]{22,}",
                r"|EAA[A-Za-z0-9]{60,}|ATATT3[A-Za-z0-9_=-]{60,}|lin_api_[A-Za-z0-9]{40}",
                r"|dp\.pt\.[A-Za-z0-9]{40,}|pat[A-Za-z0-9]{14}\.[a-f0-9]{64}",
                r"|glc_[A-Za-z0-9+/]{32,}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}",
                r"|sntrys_[A-Za-z0-9+/=_-]{50,}|AGE-SECRET-KEY-1[0-9A-Z]{58}",
                r"|xai-[A-Za-z0-9]{60,}|gsk_[A-Za-z0-9]{48,}|r8_[A-Za-z0-9]{37}|pplx-[A-Za-z0-9]{40,}",
                r"|[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}",
                r"|(?:bot)?[0-9]{6,12}:AA[A-Za-z0-9_-]{30,34}",
                r")(?-u:\b)"
            ),
            Action::Label("[TOKEN-REDACTED]"),
        ),
        r(
            "webhook-url",
            r"(?:hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{10,}|(?:discord|discordapp)\.com/api/(?:v[0-9]+/)?webhooks/[0-9]{5,}/[A-Za-z0-9_-]{20,}|[A-Za-z0-9-]+\.webhook\.office\.com/webhookb2/[A-Za-z0-9@/_-]{20,})",
            Action::Label("[WEBHOOK-REDACTED]"),
        ),
        r(
            "jwt",
            r"(^|[^A-Za-z0-9_-])eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
            Action::Lead("[JWT-REDACTED]"),
        ),
        r(
            "card",
            concat!(
                r"(?-u:\b)(?:[2-6][0-9]{12,18}",
                r"|[2-6][0-9]{3} [0-9]{4} [0-9]{4} [0-9]{4}(?: [0-9]{3})?",
                r"|[2-6][0-9]{3}-[0-9]{4}-[0-9]{4}-[0-9]{4}(?:-[0-9]{3})?",
                r"|3[0-9]{3} [0-9]{6} [0-9]{5}|3[0-9]{3}-[0-9]{6}-[0-9]{5})(?-u:\b)"
            ),
            Action::Checked("[CARD-REDACTED]", passes_luhn),
        ),
        r(
            "ssn",
            r"(?-u:\b)[0-9]{3}-[0-9]{2}-[0-9]{4}(?-u:\b)",
            Action::Checked("[SSN-REDACTED]", is_plausible_ssn),
        ),
        r(
            "phone",
            r"(?:\+1[-. ]?)?(?:\([0-9]{3}\)[ .-]?|(?-u:\b)[0-9]{3}[-. ])[0-9]{3}[-. ][0-9]{4}(?-u:\b)",
            Action::Label("[PHONE-REDACTED]"),
        ),
    ]
}

/// A bearer credential: long enough, and not a plain word (`Bearer authentication`).
fn looks_like_token(m: &str) -> bool {
    let t = after_scheme(m);
    t.len() >= 8 && t.bytes().any(|b| !b.is_ascii_alphabetic())
}

/// A `Basic` credential: base64 of `user:password` (decoded on the fly, no allocation: a
/// text full of `Basic word` candidates must stay cheap).
fn is_basic_credential(m: &str) -> bool {
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in after_scheme(m).bytes() {
        let Some(v) = base64_digit(b) else {
            return false;
        };
        acc = ((acc << 6) | v) & 0xFFFF;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            if (acc >> bits) & 0xFF == u32::from(b':') {
                return true;
            }
        }
    }
    false
}

/// The text after `Bearer`/`Basic` and its blanks.
fn after_scheme(m: &str) -> &str {
    let blank = m.find([' ', '\t']).unwrap_or(m.len());
    m[blank..].trim_start_matches([' ', '\t'])
}

/// The value of a base64 digit; `None` for `=` padding and anything else.
fn base64_digit(b: u8) -> Option<u32> {
    let v = match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// The Luhn check digit of a card number (separators ignored), without allocating.
fn passes_luhn(m: &str) -> bool {
    let (mut sum, mut count) = (0u32, 0usize);
    for b in m.bytes().rev().filter(u8::is_ascii_digit) {
        let d = u32::from(b - b'0');
        sum += if count % 2 == 1 {
            if d * 2 > 9 {
                d * 2 - 9
            } else {
                d * 2
            }
        } else {
            d
        };
        count += 1;
    }
    (13..=19).contains(&count) && sum.is_multiple_of(10)
}

/// `AAA-GG-SSSS` with the numbers never issued excluded (area 000, 666, 900-999; group 00;
/// serial 0000), which keeps dates and ids of that shape out.
fn is_plausible_ssn(m: &str) -> bool {
    let (area, rest) = m.split_at(3);
    let group = &rest[1..3];
    let serial = &rest[4..];
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000"
}

/// Writes the replacement of the match `text[start..end]` into `out` and returns where the
/// text goes on, or returns `None` (nothing written) when the action declines the match.
pub fn apply(
    action: Action,
    text: &str,
    start: usize,
    end: usize,
    out: &mut String,
) -> Option<usize> {
    let m = &text[start..end];
    match action {
        Action::Label(label) => {
            out.push_str(label);
            Some(end)
        }
        Action::Checked(label, check) => check(m).then(|| {
            out.push_str(label);
            end
        }),
        Action::Scheme(check) => check(m).then(|| {
            let keep = m.len() - after_scheme(m).len();
            out.push_str(&m[..keep]);
            out.push_str("[REDACTED]");
            end
        }),
        Action::Lead(label) => {
            let lead = lead_len(m);
            out.push_str(&m[..lead]);
            out.push_str(label);
            Some(end)
        }
        Action::KeyValue => key_value(text, start, end, out),
        Action::XmlElement => xml_element(text, start, end, out),
        Action::UrlPassword => {
            // `scheme://` then the user (no `:`), then `:`.
            let after_scheme = m.find("://").map_or(0, |i| i + 3);
            let colon = after_scheme + m[after_scheme..].find(':')?;
            out.push_str(&m[..=colon]);
            out.push_str("[REDACTED]@");
            Some(end)
        }
        Action::CliPassword => {
            let keep = if let Some(i) = m.rfind(" -p").or_else(|| m.rfind("\t-p")) {
                i + 3
            } else {
                // `-u user:pass`: after the flag, the first `:`.
                let flag = m.find("-u").or_else(|| m.find("--")).unwrap_or(0);
                flag + m[flag..].find(':')? + 1
            };
            out.push_str(&m[..keep]);
            out.push_str("[REDACTED]");
            Some(end)
        }
    }
}

/// Length of the leading character when it is not a key character (the `(^|[^…])` group).
fn lead_len(m: &str) -> usize {
    match m.bytes().next() {
        Some(b) if !is_key_byte(b) => m.chars().next().map_or(0, char::len_utf8),
        _ => 0,
    }
}

/// Bytes that end an unquoted value.
fn ends_value(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t'
            | b'\r'
            | b'\n'
            | 0x0B
            | 0x0C
            | b'&'
            | b','
            | b';'
            | b'}'
            | b'<'
            | b'"'
            | b'\''
    )
}

/// `key` + separator at `text[start..end]`; see [`Action::KeyValue`].
fn key_value(text: &str, start: usize, end: usize, out: &mut String) -> Option<usize> {
    let m = &text[start..end];
    let b = m.as_bytes();
    let key_start = lead_len(m);
    let mut key_end = key_start;
    while key_end < b.len()
        && (is_key_byte(b[key_end]) || (b[key_end] == b' ' && key_end > key_start))
    {
        key_end += 1;
    }
    let key = m[key_start..key_end].trim_end();
    if !is_sensitive_key(key) {
        return None;
    }
    let t = text.as_bytes();
    let mut v = end;
    while v < t.len() && (t[v] == b' ' || t[v] == b'\t') {
        v += 1;
    }
    let line_end = text[v..].find('\n').map_or(t.len(), |i| v + i);
    let (value_start, value_end, resume) = if text[v..line_end].starts_with("\\\"") {
        // Escaped JSON: `\"value\"`.
        match text[v + 2..line_end].find("\\\"") {
            Some(i) => (v + 2, v + 2 + i, v + 2 + i),
            None => bare_value(text, v, line_end),
        }
    } else if v < line_end && (t[v] == b'"' || t[v] == b'\'') {
        match closing_quote(t, v, line_end) {
            Some(close) => (v + 1, close, close),
            None => bare_value(text, v, line_end),
        }
    } else if split_last_word(key).is_some_and(|w| w.starts_with("cookie")) {
        // A Cookie / Set-Cookie header: every pair to the end of the line.
        let stop = text[v..line_end].find('\r').map_or(line_end, |i| v + i);
        (v, stop, stop)
    } else {
        bare_value(text, v, line_end)
    };
    if value_end <= value_start {
        return None;
    }
    out.push_str(&text[start..value_start]);
    out.push_str("[REDACTED]");
    Some(resume.max(value_end))
}

/// The last word of a key, lowercased.
fn split_last_word(key: &str) -> Option<String> {
    super::keys::split_words(key).pop()
}

/// An unquoted value from `v`: an optional auth scheme and blanks, then up to a byte that
/// ends values.
fn bare_value(text: &str, v: usize, line_end: usize) -> (usize, usize, usize) {
    let t = text.as_bytes();
    let mut e = v;
    let rest = &text[v..line_end];
    for scheme in ["bearer", "basic", "digest", "token"] {
        if rest.len() > scheme.len()
            && rest.as_bytes()[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
            && matches!(t[v + scheme.len()], b' ' | b'\t')
        {
            e = v + scheme.len();
            while e < line_end && (t[e] == b' ' || t[e] == b'\t') {
                e += 1;
            }
            break;
        }
    }
    while e < line_end && !ends_value(t[e]) {
        e += 1;
    }
    (v, e, e)
}

/// Index of the quote closing the one at `open`, before `line_end`; backslash escapes.
fn closing_quote(t: &[u8], open: usize, line_end: usize) -> Option<usize> {
    let q = t[open];
    let mut i = open + 1;
    while i < line_end {
        match t[i] {
            b'\\' => i += 2,
            c if c == q => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// `<tag …>` at `text[start..end]`; see [`Action::XmlElement`].
fn xml_element(text: &str, start: usize, end: usize, out: &mut String) -> Option<usize> {
    let m = &text[start..end];
    let name_end = m[1..].find([' ', '\t', '>']).map_or(m.len(), |i| i + 1);
    if !is_sensitive_key(&m[1..name_end]) {
        return None;
    }
    let t = text.as_bytes();
    let mut e = end;
    while e < t.len() && t[e] != b'<' && t[e] != b'\n' {
        e += 1;
    }
    if e == end {
        return None;
    }
    out.push_str(m);
    out.push_str("[REDACTED]");
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_ssn_checks() {
        assert!(passes_luhn("4111 1111 1111 1111"));
        assert!(passes_luhn("378282246310005"));
        assert!(!passes_luhn("4111 1111 1111 1112"));
        assert!(is_plausible_ssn("123-45-6789"));
        assert!(!is_plausible_ssn("987-65-4321"));
        assert!(!is_plausible_ssn("123-00-6789"));
    }

    #[test]
    fn basic_credentials_decode_to_user_and_password() {
        assert!(is_basic_credential("Basic dXNlcjpwYXNz"));
        assert!(is_basic_credential("basic\tYTpi"));
        assert!(!is_basic_credential("Basic authentication"));
        assert!(!is_basic_credential("Basic YWJj"));
    }
}

//! The sensitive-key vocabulary: which key names hold secrets.
//!
//! The vocabulary is data, `lib/policy/sensitive-keys.json`, read here at compile time and by
//! `lib/policy/redaction.js` at run time, so log lines, HTTP answers and AI prompts judge a
//! key by the same list. The matching is by whole words: a key is split into lowercase words
//! at every character that is not an ASCII letter or digit, at camelCase humps (`apiKey`,
//! `APIKey`) and where letters meet digits. `author` and `shipping` are single words that
//! are not in the list, so they are not sensitive; `x-api-key`, `Set-Cookie` and
//! `clientSecret` contain listed words. A few words (`suffixes`) also count at the end of a
//! longer word (`dbpassword`, `csrftoken`), where no separator was written. A key whose last
//! word only describes a secret (`token_type`, `password_length`, `SharedAccessKeyName`: the
//! `describing` list) is not sensitive.
//!
//! `lib/policy/redaction.js` implements the same split for object keys (a crossing into Rust
//! per key would cost more than the check); `__test__/redaction-policy.test.js` compares both.

use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Deserialize)]
struct VocabularyFile {
    phrases: Vec<String>,
    suffixes: Vec<String>,
    describing: Vec<String>,
}

/// The vocabulary, parsed once.
pub struct Vocabulary {
    /// Each phrase as its words.
    phrases: Vec<Vec<String>>,
    suffixes: Vec<String>,
    /// Last words that make a key describe a secret instead of holding it.
    describing: Vec<String>,
}

const VOCABULARY_JSON: &str = include_str!("../../../lib/policy/sensitive-keys.json");

/// The vocabulary of `lib/policy/sensitive-keys.json`.
pub fn vocabulary() -> &'static Vocabulary {
    static V: OnceLock<Vocabulary> = OnceLock::new();
    V.get_or_init(|| {
        // The file is part of the crate's sources; `vocabulary_parses` proves it parses.
        let file: VocabularyFile =
            serde_json::from_str(VOCABULARY_JSON).unwrap_or(VocabularyFile {
                phrases: Vec::new(),
                suffixes: Vec::new(),
                describing: Vec::new(),
            });
        Vocabulary {
            phrases: file
                .phrases
                .iter()
                .map(|p| p.split(' ').map(str::to_owned).collect())
                .collect(),
            suffixes: file.suffixes,
            describing: file.describing,
        }
    })
}

impl Vocabulary {
    /// Words that every sensitive key contains as a substring (case-insensitively): the
    /// first word of each phrase and every suffix. The text rules use them to find candidate
    /// keys before [`is_sensitive_key`] decides.
    pub fn trigger_words(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .phrases
            .iter()
            .filter_map(|p| p.first().map(String::as_str))
            .chain(self.suffixes.iter().map(String::as_str))
            .collect();
        // Longest first, so an alternation prefers `password` over `pass` (both are fine
        // for finding candidates; this only keeps the pattern's intent plain).
        out.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        out.dedup();
        out
    }
}

/// Splits a key into lowercase ASCII words (see the module docs).
pub fn split_words(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut words = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some(&prev) = i.checked_sub(1).and_then(|p| chars.get(p)) {
            let next = chars.get(i + 1).copied();
            let boundary = (prev.is_ascii_lowercase() && c.is_ascii_uppercase())
                || (prev.is_ascii_digit() != c.is_ascii_digit() && prev.is_ascii_alphanumeric())
                || (prev.is_ascii_uppercase()
                    && c.is_ascii_uppercase()
                    && next.is_some_and(|n| n.is_ascii_lowercase()));
            if boundary && !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// `word` is `listed` or its plural with `s`.
fn same_word(word: &str, listed: &str) -> bool {
    word == listed
        || (word.len() == listed.len() + 1 && word.starts_with(listed) && word.ends_with('s'))
}

/// Keys judged recently on this thread: a text can repeat one key thousands of times.
const VERDICTS_MAX: usize = 256;
thread_local! {
    static VERDICTS: std::cell::RefCell<std::collections::HashMap<Box<str>, bool>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Whether a key name is sensitive under the vocabulary (memoised per thread, bounded).
pub fn is_sensitive_key(key: &str) -> bool {
    if key.len() > 64 {
        return judge(key);
    }
    VERDICTS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut memo) => {
            if let Some(&v) = memo.get(key) {
                return v;
            }
            let v = judge(key);
            if memo.len() >= VERDICTS_MAX {
                memo.clear();
            }
            memo.insert(key.into(), v);
            v
        }
        Err(_) => judge(key),
    })
}

fn judge(key: &str) -> bool {
    let mut buf = [0u8; MAX_SHORT_KEY];
    let mut spans = [(0usize, 0usize); MAX_SHORT_WORDS];
    if let Some(n) = split_short(key.as_bytes(), &mut buf, &mut spans) {
        // ASCII lowercasing keeps UTF-8 valid, so this never fails for a `&str`.
        if let Ok(text) = std::str::from_utf8(&buf[..key.len()]) {
            let mut words = [""; MAX_SHORT_WORDS];
            for (w, &(start, end)) in words.iter_mut().zip(&spans[..n]) {
                *w = &text[start..end];
            }
            return judge_words(&words[..n]);
        }
    }
    let words = split_words(key);
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    judge_words(&refs)
}

const MAX_SHORT_KEY: usize = 64;
const MAX_SHORT_WORDS: usize = 32;

/// [`split_words`] without allocating, for keys of at most 64 bytes: the key lowercased into
/// `buf`, the words' byte ranges into `spans`; `None` when the key is longer or has more
/// words. Keys are judged one by one on adversarial text, so this is the hot path.
fn split_short(
    key: &[u8],
    buf: &mut [u8; MAX_SHORT_KEY],
    spans: &mut [(usize, usize); MAX_SHORT_WORDS],
) -> Option<usize> {
    if key.len() > MAX_SHORT_KEY {
        return None;
    }
    let mut n = 0;
    let mut push = |span: (usize, usize), n: &mut usize| -> Option<()> {
        *spans.get_mut(*n)? = span;
        *n += 1;
        Some(())
    };
    let mut start: Option<usize> = None;
    for (i, &c) in key.iter().enumerate() {
        buf[i] = c.to_ascii_lowercase();
        if !c.is_ascii_alphanumeric() {
            if let Some(s) = start.take() {
                push((s, i), &mut n)?;
            }
            continue;
        }
        match start {
            None => start = Some(i),
            Some(s) => {
                let prev = key[i - 1];
                let next = key.get(i + 1).copied();
                let boundary = (prev.is_ascii_lowercase() && c.is_ascii_uppercase())
                    || prev.is_ascii_digit() != c.is_ascii_digit()
                    || (prev.is_ascii_uppercase()
                        && c.is_ascii_uppercase()
                        && next.is_some_and(|b| b.is_ascii_lowercase()));
                if boundary {
                    push((s, i), &mut n)?;
                    start = Some(i);
                }
            }
        }
    }
    if let Some(s) = start {
        push((s, key.len()), &mut n)?;
    }
    Some(n)
}

/// The vocabulary's verdict on a key's lowercase words.
fn judge_words(words: &[&str]) -> bool {
    let v = vocabulary();
    if words.len() > 1
        && words
            .last()
            .is_some_and(|w| v.describing.iter().any(|d| d == w))
    {
        return false;
    }
    let phrase_hit = v.phrases.iter().any(|phrase| {
        !phrase.is_empty()
            && words.len() >= phrase.len()
            && words
                .windows(phrase.len())
                .any(|w| w.iter().zip(phrase).all(|(a, b)| same_word(a, b)))
    });
    phrase_hit
        || words.iter().any(|w| {
            v.suffixes.iter().any(|s| {
                w.ends_with(s.as_str())
                    || (w.ends_with('s') && w[..w.len() - 1].ends_with(s.as_str()))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_parses() {
        let file: VocabularyFile = serde_json::from_str(VOCABULARY_JSON).expect("valid JSON");
        assert!(file.phrases.len() > 20);
        assert_eq!(vocabulary().phrases.len(), file.phrases.len());
    }

    #[test]
    fn short_split_equals_split_words() {
        for key in [
            "x-api-key",
            "APIKey",
            "clientSecret",
            "oauth2Token",
            "SESSION_ID",
            "__proto__",
            "",
            "aB",
            "ABc",
            "a1b2",
            "é-password",
            "passwordé",
            "XMLHttpRequestToken",
            "a_b_c_d",
        ] {
            let mut buf = [0u8; MAX_SHORT_KEY];
            let mut spans = [(0usize, 0usize); MAX_SHORT_WORDS];
            let n = split_short(key.as_bytes(), &mut buf, &mut spans).expect("short key");
            let text = std::str::from_utf8(&buf[..key.len()]).expect("utf-8");
            let words: Vec<&str> = spans[..n].iter().map(|&(a, b)| &text[a..b]).collect();
            assert_eq!(words, split_words(key), "{key}");
        }
        let many = "a-".repeat(33);
        let mut buf = [0u8; MAX_SHORT_KEY];
        let mut spans = [(0usize, 0usize); MAX_SHORT_WORDS];
        assert_eq!(split_short(many.as_bytes(), &mut buf, &mut spans), None);
        assert!(!is_sensitive_key(&many));
        assert!(is_sensitive_key(&format!("{many}password")));
    }

    #[test]
    fn splits_at_separators_humps_and_digits() {
        assert_eq!(split_words("x-api-key"), ["x", "api", "key"]);
        assert_eq!(split_words("APIKey"), ["api", "key"]);
        assert_eq!(split_words("clientSecret"), ["client", "secret"]);
        assert_eq!(split_words("oauth2Token"), ["oauth", "2", "token"]);
        assert_eq!(split_words("SESSION_ID"), ["session", "id"]);
        assert_eq!(split_words("__proto__"), ["proto"]);
        assert_eq!(split_words(""), Vec::<String>::new());
    }

    #[test]
    fn required_words_are_sensitive_and_look_alikes_are_not() {
        for k in [
            "password",
            "passwd",
            "secret",
            "token",
            "api_key",
            "apikey",
            "x-api-key",
            "apiKey",
            "authorization",
            "Authorization",
            "cookie",
            "set-cookie",
            "Set-Cookie",
            "session",
            "private_key",
            "client_secret",
            "access_key",
            "credit_card",
            "card_number",
            "cvv",
            "ssn",
            "dbPassword",
            "dbpassword",
            "csrftoken",
            "refresh_token",
            "AccountKey",
            "passwords",
            "cookies",
            "tokens",
            "SharedAccessKey",
        ] {
            assert!(is_sensitive_key(k), "{k}");
        }
        for k in [
            "author",
            "shipping",
            "authority",
            "tokenizer",
            "secretary",
            "passenger",
            "keyboard",
            "cache_key",
            "user",
            "id",
            "route",
            "spin",
            "compass",
        ] {
            assert!(!is_sensitive_key(k), "{k}");
        }
        // A listed word inside a longer key name still counts: whole words, not whole keys;
        // unless the last word only describes the secret.
        assert!(is_sensitive_key("session_data"));
        assert!(!is_sensitive_key("session_count"));
    }
}

//! The built-in offline advisor: specific advice for the common Node.js failures, with no
//! network call. Used when no API key is configured (a fresh install, the demo, CI).
//!
//! Advice is cached by fingerprint, and a fingerprint deliberately ignores numbers, ids and
//! paths, so the text here never quotes those parts of a message (a port or path quoted for
//! one occurrence could be wrong for the next); it only quotes names that are part of the
//! fingerprint, such as the property or function name.
//!
//! `rules` holds the advice for each kind of failure, `classify` picks the rule for an error;
//! this module fills in the quoted name and builds the JSON.

mod classify;
mod rules;

use serde_json::{json, Map, Value};

use classify::pick;
use rules::{NOT_A_FUNCTION, PROPERTY_OF_NOTHING};

/// The quoted name in `(reading 'x')` or `x.y is not a function`, when there is one.
fn subject(message: &str) -> Option<&str> {
    if let Some(i) = message.find("(reading '") {
        let rest = &message[i + 10..];
        return rest.find('\'').map(|j| &rest[..j]);
    }
    if let Some(i) = message.find(" is not a function") {
        let head = &message[..i];
        let start = head
            .rfind(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '$')))
            .map_or(0, |p| p + 1);
        let s = &head[start..];
        return (!s.is_empty()).then_some(s);
    }
    None
}

/// Offline advice for an error, as a JSON object with `advice`, `cause`, `steps`,
/// `category` and `offline: true`.
pub fn advise(name: &str, code: &str, message: &str) -> Map<String, Value> {
    let rule = pick(name, code, message);
    let mut advice = rule.advice.to_owned();
    if let Some(s) = subject(message).filter(|s| s.len() <= 80) {
        if std::ptr::eq(rule, &PROPERTY_OF_NOTHING) {
            advice = format!(
                "The object whose '{s}' property is read is undefined or null here. {advice}"
            );
        } else if std::ptr::eq(rule, &NOT_A_FUNCTION) {
            advice = format!("'{s}' is not callable at this point. {advice}");
        }
    }
    let mut m = Map::new();
    m.insert("advice".into(), Value::String(advice));
    m.insert("cause".into(), Value::String(rule.cause.to_owned()));
    m.insert("steps".into(), json!(rule.steps));
    m.insert("category".into(), Value::String(rule.category.to_owned()));
    m.insert("offline".into(), Value::Bool(true));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_is_specific_and_marked_offline() {
        let a = advise(
            "TypeError",
            "",
            "Cannot read properties of undefined (reading 'email')",
        );
        assert!(a["advice"].as_str().unwrap_or_default().contains("'email'"));
        assert_eq!(a["offline"], true);
        assert!(a["steps"].as_array().is_some_and(|s| s.len() >= 3));
        let f = advise("TypeError", "", "db.collection is not a function");
        assert!(f["advice"]
            .as_str()
            .unwrap_or_default()
            .starts_with("'db.collection'"));
        let p = advise(
            "Error",
            "ECONNREFUSED",
            "connect ECONNREFUSED 127.0.0.1:5432",
        );
        assert!(!p["advice"].as_str().unwrap_or_default().contains("5432"));
    }
}

//! Fuzzing with large budgets: the JSON scanner, the redaction rules and the fingerprint
//! normalizer, driven by proptest through their public functions only.
//!
//! Off by default: a normal `cargo test` runs each target on 64 cases, as a smoke test.
//! `QERRORS_FUZZ=1 cargo test --release fuzz_` runs 100 000 cases per target (set
//! `QERRORS_FUZZ_CASES` for another budget); run it nightly or before a release.
//! cargo-fuzz needs a nightly toolchain, which this project does not require.

use proptest::prelude::*;
use serde_json::Value;

use super::fingerprint::{fingerprint, normalize_message, normalize_stack};
use super::json::{parse, validate, Limits};
use super::sanitize::{redact, redact_lines};

/// Cases per target: the smoke budget, or the fuzz budget under `QERRORS_FUZZ=1`.
fn cases() -> u32 {
    if std::env::var("QERRORS_FUZZ").as_deref() != Ok("1") {
        return 64;
    }
    std::env::var("QERRORS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        // Shrinking a failure of a 100 000-case run can take long; a smaller budget is plenty.
        max_shrink_iters: 2048,
        ..ProptestConfig::default()
    }
}

/// JSON-ish bytes: fragments of valid documents, broken ones and random bytes.
fn json_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => prop::sample::select(vec![
            "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "\\udc00", "\\n", "0", "-",
            "1e", "1e400", "-0", "0.5", "true", "false", "null", " ", "\n", "\"a\"", "\"k\":",
            "123456789012345678901234567890", "é", "\u{1F600}", "\u{0}", "1.", ".1", "tru", "nul",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..4),
    ];
    prop::collection::vec(piece, 0..48).prop_map(|parts| parts.concat())
}

/// A JSON value as serde_json builds it (finite numbers only, as JSON has).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Equal as `JSON.parse` sees them: every number is a double.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && same_json(v1, v2))
        }
        _ => a == b,
    }
}

/// Secret forms planted in noise; the second item must not survive redaction.
const PLANTED: &[(&str, &str)] = &[
    ("password=Hunter2xyz", "Hunter2xyz"),
    ("postgres://svc:PgPassw0rd@db-host", "PgPassw0rd"),
    ("Authorization: Bearer abc123def456", "abc123def456"),
    ("{\"client_secret\":\"s3cr3t-v4lue\"}", "s3cr3t-v4lue"),
    ("<password>xml-s3cret</password>", "xml-s3cret"),
    ("Cookie: theme=dark; sid=c00kieV4lue", "c00kieV4lue"),
    (
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "ghp_abcdefghijklmnopqrstuvwxyz",
    ),
    ("sk_live_abcdefghij0123456789", "sk_live_abcdefghij"),
    ("AKIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP"),
    ("4111 1111 1111 1111", "4111 1111 1111 1111"),
    ("mysql -u root -pMyPassw0rd", "MyPassw0rd"),
    ("API Key: k3y-v4lue", "k3y-v4lue"),
];

fn noise() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .,:;=/_-]{0,24}",
        prop::sample::select(vec![
            "\n",
            " at f (/a.js:1:2)\n",
            "token",
            "=",
            ":",
            "\"",
            "@",
            "é"
        ])
        .prop_map(str::to_owned),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_json_never_panics_and_validate_agrees_with_parse(input in json_bytes()) {
        let limits = Limits::default();
        let parsed = parse(&input, &limits);
        prop_assert_eq!(parsed.is_ok(), validate(&input, &limits).is_ok());
    }

    #[test]
    fn fuzz_json_reads_what_serde_json_writes(value in json_value()) {
        let text = serde_json::to_string(&value).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let ours = parse(text.as_bytes(), &Limits::default());
        prop_assert!(ours.is_ok(), "rejected {text}: {:?}", ours.err());
        let ours = ours.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(same_json(&ours, &value), "{text}");
    }

    #[test]
    fn fuzz_redaction_never_panics_and_lines_agree(input in any::<String>()) {
        let whole = redact(&input);
        prop_assert_eq!(&redact_lines(&input), &whole);
    }

    #[test]
    fn fuzz_redaction_keeps_planted_secrets_out(
        before in noise(),
        which in 0..PLANTED.len(),
        after in noise(),
    ) {
        let (form, secret) = PLANTED[which];
        let input = format!("{before} {form}\n{after}");
        let out = redact(&input);
        prop_assert!(!out.contains(secret), "{input:?} -> {out:?}");
    }

    #[test]
    fn fuzz_fingerprint_ignores_numbers_and_positions(
        words in "[a-z]{1,10}( [a-z]{1,10}){0,4}",
        a in 0u32..1_000_000,
        b in 0u32..1_000_000,
        line in 1u32..5000,
        col in 1u32..200,
        noise in any::<String>(),
    ) {
        let msg = |n: u32| format!("{words} {n} failed");
        let stack = |l: u32, c: u32| format!("Error: x\n    at run (/srv/app/{words}.js:{l}:{c})\n");
        prop_assert_eq!(normalize_message(&msg(a)), normalize_message(&msg(b)));
        prop_assert_eq!(normalize_stack(&stack(line, col)), normalize_stack(&stack(col, line)));
        prop_assert_eq!(
            fingerprint("Error", "", &msg(a), &stack(line, col)),
            fingerprint("Error", "", &msg(b), &stack(col, line))
        );
        // Arbitrary text: no panic, and the same answer twice.
        prop_assert_eq!(fingerprint(&noise, &noise, &noise, &noise), fingerprint(&noise, &noise, &noise, &noise));
        prop_assert_eq!(normalize_message(&noise), normalize_message(&noise));
    }
}

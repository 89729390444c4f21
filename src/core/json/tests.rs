#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::json;

fn lim() -> Limits {
    Limits::default()
}

fn err(input: &str) -> JsonError {
    validate(input.as_bytes(), &lim()).unwrap_err()
}

#[test]
fn accepts_valid_documents() {
    for text in [
        "0",
        "-0",
        "1.5e+10",
        "-12.25E-3",
        "\"\"",
        " true ",
        "false",
        "null",
        "[]",
        "{}",
        "[1,[2,[3]],{\"a\":{}}]",
        "\r\n\t{ \"a\" : [ 1 , 2 ] }\n",
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"",
    ] {
        assert_eq!(validate(text.as_bytes(), &lim()), Ok(()), "{text}");
    }
}

#[test]
fn rejects_invalid_documents_with_positions() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "Unexpected end"),
        ("   ", 3, "Unexpected end"),
        ("{", 1, "Unexpected end"),
        ("[1,]", 3, "Unexpected token ']'"),
        ("{\"a\":1,}", 7, "property name"),
        ("{\"a\" 1}", 5, "':'"),
        ("{\"a\":1 \"b\":2}", 7, "',' or '}'"),
        ("[1 2]", 3, "',' or ']'"),
        ("01", 1, "after JSON"),
        ("1.", 2, "fractional"),
        ("1e", 2, "Exponent"),
        ("-", 1, "minus"),
        ("-a", 1, "minus"),
        ("tru", 3, "Unexpected end"),
        ("trux", 3, "Unexpected token 'x'"),
        ("nul", 3, "Unexpected end"),
        ("\"abc", 4, "Unterminated string"),
        ("\"a\tb\"", 2, "control character"),
        ("\"\\x\"", 2, "escaped character"),
        ("\"\\u12G4\"", 5, "Unicode escape"),
        ("{} []", 3, "after JSON"),
        ("'a'", 0, "Unexpected token '''"),
        ("NaN", 0, "Unexpected token 'N'"),
        ("[Infinity]", 1, "Unexpected token 'I'"),
        ("\u{feff}1", 0, "Unexpected byte 0xef"),
        ("[1]\u{a0}", 3, "after JSON"),
    ];
    for &(text, offset, reason) in cases {
        let e = err(text);
        assert_eq!(e.kind, ErrorKind::Syntax, "{text:?}");
        assert_eq!(e.offset, offset, "{text:?}: {e}");
        assert!(e.reason.contains(reason), "{text:?}: {e}");
    }
}

#[test]
fn error_lines_and_columns() {
    let e = err("{\n  \"a\": 1,\n  \"b\": ?\n}");
    assert_eq!((e.line, e.column, e.offset), (3, 8, 19));
    assert_eq!(
        e.to_string(),
        "Unexpected token '?' at line 3 column 8 (offset 19)"
    );
    let mut e = err("[\"é😀\", x]");
    assert_eq!((e.line, e.column, e.offset), (1, 12, 11));
    to_utf16_position(&mut e, "[\"é😀\", x]".as_bytes());
    assert_eq!((e.column, e.offset), (9, 8));
}

#[test]
fn invalid_utf8_is_a_positioned_syntax_error() {
    let e = validate(b"[\"ab\xff\"]", &lim()).unwrap_err();
    assert_eq!((e.kind, e.offset), (ErrorKind::Syntax, 4));
    assert!(e.reason.contains("UTF-8"));
    // A syntax error before the bad byte is the one reported.
    let e = validate(b"[x, \"\xff\"]", &lim()).unwrap_err();
    assert_eq!(e.offset, 1);
    // Overlong and surrogate encodings are invalid UTF-8 too.
    assert!(validate(b"\"\xc0\xaf\"", &lim()).is_err());
    assert!(validate(b"\"\xed\xa0\x80\"", &lim()).is_err());
}

#[test]
fn depth_limit_is_exact_and_never_recurses() {
    let ok = "[".repeat(128) + &"]".repeat(128);
    assert_eq!(validate(ok.as_bytes(), &lim()), Ok(()));
    let deep = "[".repeat(129) + &"]".repeat(129);
    let e = validate(deep.as_bytes(), &lim()).unwrap_err();
    assert_eq!((e.kind, e.offset), (ErrorKind::Limit, 128));
    let objects = "{\"a\":".repeat(5) + "1" + &"}".repeat(5);
    let l = Limits {
        max_depth: 4,
        ..lim()
    };
    assert_eq!(
        validate(objects.as_bytes(), &l).unwrap_err().kind,
        ErrorKind::Limit
    );
    // A million open brackets: an iterative scanner just reports the limit.
    let huge = "[".repeat(1_000_000);
    let l = Limits {
        max_depth: usize::MAX,
        ..lim()
    };
    assert!(validate(huge.as_bytes(), &l)
        .unwrap_err()
        .reason
        .contains("end"));
}

#[test]
fn size_limit_comes_first() {
    let l = Limits {
        max_bytes: 4,
        ..lim()
    };
    assert_eq!(validate(b"[1,2]", &l).unwrap_err().kind, ErrorKind::Limit);
    assert_eq!(validate(b"[12]", &l), Ok(()));
}

#[test]
fn huge_documents() {
    let content = "lorem ipsum \\\"dolor\\\" ".repeat(300_000);
    let doc = format!("{{\"choices\":[{{\"message\":{{\"content\":\"{content}\"}}}}]}}");
    assert!(doc.len() > 6_000_000);
    let s = extract_str(doc.as_bytes(), OPENAI_CONTENT, &lim())
        .unwrap()
        .unwrap();
    assert_eq!(s.len(), content.len() - 2 * 300_000);
    let items: Vec<String> = (0..50_000)
        .map(|i| format!("{{\"token\":\"t{i}\",\"logprob\":-{i}.5e-3}}"))
        .collect();
    let doc = format!("[{}]", items.join(","));
    let v = parse(doc.as_bytes(), &lim()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 50_000);
    assert_eq!(v[49_999]["token"], "t49999");
}

#[test]
fn parses_like_json_parse() {
    let v = parse(
        br#"{"z":1,"a":[true,false,null],"m":{"b":2.5,"a":"x"},"z":3}"#,
        &lim(),
    )
    .unwrap();
    // Key order of first appearance, value of the last duplicate.
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"{"z":3,"a":[true,false,null],"m":{"b":2.5,"a":"x"}}"#
    );
}

#[test]
fn unicode_escapes_and_surrogates() {
    let v = parse(
        r#"["é😀中", "\u00e9\ud83d\ude00\u4e2d", "\n\t\"\\\/"]"#.as_bytes(),
        &lim(),
    )
    .unwrap();
    assert_eq!(v, json!(["é😀中", "é😀中", "\n\t\"\\/"]));
    // Lone surrogates: JS keeps them, Rust strings get U+FFFD.
    let doc = r#""a\ud800b\udc00c\ude00\ud83d""#;
    assert_eq!(
        parse(doc.as_bytes(), &lim()).unwrap(),
        json!("a\u{fffd}b\u{fffd}c\u{fffd}\u{fffd}")
    );
    match prepare_document(doc.as_bytes(), &lim(), 1).unwrap() {
        Prepared::String(JsText::Utf16(units)) => assert_eq!(
            units,
            vec![0x61, 0xd800, 0x62, 0xdc00, 0x63, 0xde00, 0xd83d]
        ),
        other => panic!("{other:?}"),
    }
    // Latin-1 when every unit fits a byte, including escaped ones.
    assert_eq!(
        prepare_document("\"caf\\u00e9 ÿ\"".as_bytes(), &lim(), 1).unwrap(),
        Prepared::String(JsText::Latin1(b"caf\xe9 \xff".to_vec()))
    );
}

#[test]
fn floats_round_trip_and_big_integers() {
    let v = parse(
            b"[0.1, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308, 1e400, 123456789.12345678]",
            &lim(),
        )
        .unwrap();
    assert_eq!(v[0].as_f64(), Some(0.1));
    assert_eq!(v[1].as_f64(), Some(f64::MAX));
    assert_eq!(v[2].as_f64(), Some(5e-324));
    assert_eq!(v[3].as_f64(), Some(2.2250738585072014e-308));
    assert_eq!(v[4], Value::Null);
    assert_eq!(v[5].as_f64(), Some(123456789.12345678));
    let v = parse(
        b"[18446744073709551615, -9223372036854775808, 123456789012345678901234567890]",
        &lim(),
    )
    .unwrap();
    assert_eq!(v[0].as_u64(), Some(u64::MAX));
    assert_eq!(v[1].as_i64(), Some(i64::MIN));
    assert_eq!(v[2].as_f64(), Some(1.2345678901234568e29));
}

#[test]
fn pointers_parse_and_escape() {
    assert!(Pointer::parse("").unwrap().tokens().is_empty());
    assert_eq!(
        Pointer::parse("/a~1b/m~0n/~01").unwrap().tokens(),
        ["a/b", "m~n", "~1"]
    );
    assert_eq!(Pointer::parse("/").unwrap().tokens(), [""]);
    assert_eq!(Pointer::parse("a").unwrap_err().kind, ErrorKind::Pointer);
    assert_eq!(Pointer::parse("/a~2").unwrap_err().kind, ErrorKind::Pointer);
    assert_eq!(Pointer::parse("/a~").unwrap_err().kind, ErrorKind::Pointer);
}

#[test]
fn extracts_rfc6901_examples() {
    let doc = br#"{"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4,
            "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8, "\u0070": 9}"#;
    let get = |p: &str| extract_value(doc, p, &lim()).unwrap();
    assert_eq!(get("/foo"), Some(json!(["bar", "baz"])));
    assert_eq!(get("/foo/0"), Some(json!("bar")));
    assert_eq!(get("/foo/1"), Some(json!("baz")));
    assert_eq!(get("/foo/2"), None);
    assert_eq!(get("/foo/01"), None);
    assert_eq!(get("/foo/-"), None);
    assert_eq!(get("/"), Some(json!(0)));
    assert_eq!(get("/a~1b"), Some(json!(1)));
    assert_eq!(get("/c%d"), Some(json!(2)));
    assert_eq!(get("/e^f"), Some(json!(3)));
    assert_eq!(get("/g|h"), Some(json!(4)));
    assert_eq!(get("/i\\j"), Some(json!(5)));
    assert_eq!(get("/k\"l"), Some(json!(6)));
    assert_eq!(get("/ "), Some(json!(7)));
    assert_eq!(get("/m~0n"), Some(json!(8)));
    assert_eq!(get("/p"), Some(json!(9)));
    assert_eq!(get("/foo/0/x"), None);
    assert_eq!(get("/missing"), None);
    assert_eq!(get("").unwrap()["foo"], json!(["bar", "baz"]));
}

#[test]
fn extraction_follows_last_duplicate() {
    let doc = br#"{"a":{"b":1},"x":[{"b":2}],"a":{"c":3}}"#;
    assert_eq!(extract_value(doc, "/a/b", &lim()).unwrap(), None);
    assert_eq!(extract_value(doc, "/a/c", &lim()).unwrap(), Some(json!(3)));
    assert_eq!(
        extract_value(doc, "/x/0/b", &lim()).unwrap(),
        Some(json!(2))
    );
    // Extraction still validates the whole document.
    assert!(extract_value(br#"{"a":1,"b":}"#, "/a", &lim()).is_err());
}

#[test]
fn provider_responses() {
    let openai = br#"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,
            "message":{"role":"assistant","content":"{\"advice\":\"Check \\\"x\\\" \u00e9 \ud83d\ude00\"}"},
            "finish_reason":"stop"}],"usage":{"total_tokens":12}}"#;
    assert_eq!(
        extract_str(openai, OPENAI_CONTENT, &lim())
            .unwrap()
            .unwrap(),
        "{\"advice\":\"Check \\\"x\\\" é 😀\"}"
    );
    let gemini = br#"{"candidates":[{"content":{"parts":[{"text":"hello"}],"role":"model"}}]}"#;
    assert_eq!(
        extract_str(gemini, GEMINI_TEXT, &lim()).unwrap().unwrap(),
        "hello"
    );
    assert_eq!(extract_str(gemini, OPENAI_CONTENT, &lim()).unwrap(), None);
    assert_eq!(
        extract_str(
            br#"{"choices":[{"message":{"content":null}}]}"#,
            OPENAI_CONTENT,
            &lim()
        )
        .unwrap(),
        None
    );
}

#[test]
fn prepare_cuts_big_strings_into_patches() {
    let big = "x\\u00e9😀".repeat(BIG_STRING_BYTES);
    let doc = format!(r#"{{"a":[1,{{"k\"y":"{big}"}}],"b":2.5,"c":"{big}","c":0}}"#);
    let Prepared::Json { text, patches } = prepare_document(doc.as_bytes(), &lim(), 0xab).unwrap()
    else {
        panic!("expected JSON")
    };
    assert_eq!(
        text.to_string_lossy(),
        r#"{"a":[1,{"k\"y":"@qerrors-00000000000000ab-0"}],"b":2.5,"c":"@qerrors-00000000000000ab-1","c":0}"#
    );
    assert_eq!(patches.len(), 2);
    assert_eq!(
        patches[0].path,
        vec![
            PathSeg::Key(JsText::Latin1(b"a".to_vec())),
            PathSeg::Index(1),
            PathSeg::Key(JsText::Latin1(b"k\"y".to_vec()))
        ]
    );
    let PatchValue::String(value) = &patches[0].value else {
        panic!("expected a string")
    };
    assert_eq!(value.js_len(), 4 * BIG_STRING_BYTES);
    assert_eq!(value.to_string_lossy(), "xé😀".repeat(BIG_STRING_BYTES));
    // Small documents are passed through untouched.
    assert_eq!(
        prepare_document(b"[1, \"a\"]", &lim(), 0).unwrap(),
        Prepared::Json {
            text: JsText::Latin1(b"[1, \"a\"]".to_vec()),
            patches: Vec::new()
        }
    );
}

#[test]
fn prepare_chunks_big_arrays_of_small_values() {
    let item = r#"{"token":" é","logprob":-0.25,"bytes":[32,195,169]}"#;
    let n = 2 * CHUNKED_ARRAY_BYTES / item.len();
    let items = vec![item; n].join(" ,\n");
    // A chunked array, a small one, and one holding a big string (never chunked).
    let big = "y".repeat(BIG_STRING_BYTES);
    let doc = format!(r#"{{"a":[{{"content":[{items}]}}],"small":[1,2],"b":[{items},"{big}"]}}"#);
    let Prepared::Json { text, patches } = prepare_document(doc.as_bytes(), &lim(), 7).unwrap()
    else {
        panic!("expected JSON")
    };
    assert_eq!(patches.len(), 2);
    let PatchValue::Chunks(chunks) = &patches[0].value else {
        panic!("expected chunks")
    };
    assert_eq!(
        patches[0].path,
        vec![
            PathSeg::Key(JsText::Latin1(b"a".to_vec())),
            PathSeg::Index(0),
            PathSeg::Key(JsText::Latin1(b"content".to_vec()))
        ]
    );
    assert!(chunks.len() > 4, "{} chunks", chunks.len());
    // Each chunk is a valid array, and together they hold every element in order.
    let mut all = Vec::new();
    for c in chunks {
        let t = c.to_string_lossy();
        assert!(
            t.len() < CHUNK_BYTES + 2 * item.len(),
            "chunk of {}",
            t.len()
        );
        all.extend(
            parse(t.as_bytes(), &lim())
                .unwrap()
                .as_array()
                .unwrap()
                .clone(),
        );
    }
    assert_eq!(all.len(), n);
    assert_eq!(all[n - 1], parse(item.as_bytes(), &lim()).unwrap());
    assert!(matches!(patches[1].value, PatchValue::String(_)));
    let skeleton = text.to_string_lossy();
    assert!(skeleton
        .starts_with(r#"{"a":[{"content":"@qerrors-0000000000000007-0"}],"small":[1,2],"b":["#));
}

#[test]
fn prepare_pointers_returns_each_value() {
    let doc = br#"{"choices":[{"message":{"content":"hi \u00e9"}}],"usage":{"n":[1,2]}}"#;
    let ptrs = [
        Pointer::parse(OPENAI_CONTENT).unwrap(),
        Pointer::parse("/usage").unwrap(),
        Pointer::parse("/nope").unwrap(),
    ];
    let out = prepare_pointers(doc, &ptrs, &lim(), 0).unwrap();
    assert_eq!(
        out[0],
        Some(Prepared::String(JsText::Latin1(b"hi \xe9".to_vec())))
    );
    assert_eq!(
        out[1],
        Some(Prepared::Json {
            text: JsText::Latin1(br#"{"n":[1,2]}"#.to_vec()),
            patches: Vec::new()
        })
    );
    assert_eq!(out[2], None);
}

#[test]
fn stringify_caps_output() {
    let v = json!({"b": [1, 2.5, "é\n"], "a": null});
    assert_eq!(
        stringify(&v, 1000).unwrap(),
        r#"{"b":[1,2.5,"é\n"],"a":null}"#
    );
    assert_eq!(stringify(&v, 10).unwrap_err().kind, ErrorKind::Limit);
    let long = Value::String("x".repeat(1 << 20));
    assert_eq!(
        stringify(&long, 1 << 20).unwrap_err().kind,
        ErrorKind::Limit
    );
    assert_eq!(
        stringify(&long, (1 << 20) + 2).unwrap().len(),
        (1 << 20) + 2
    );
}

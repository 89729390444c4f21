#![allow(clippy::unwrap_used)]

use super::*;
use proptest::prelude::*;

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((".{0,6}", inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn serialized_values_parse_back(v in value()) {
        let text = serde_json::to_string(&v).unwrap();
        prop_assert_eq!(parse(text.as_bytes(), &Limits::default()).unwrap(), v.clone());
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        prop_assert_eq!(parse(pretty.as_bytes(), &Limits::default()).unwrap(), v);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let l = Limits::default();
        let ok = validate(&bytes, &l).is_ok();
        prop_assert_eq!(parse(&bytes, &l).is_ok(), ok);
        prop_assert_eq!(prepare_document(&bytes, &l, 1).is_ok(), ok);
        let ptrs = [Pointer::parse("/0").unwrap(), Pointer::parse("").unwrap()];
        prop_assert_eq!(prepare_pointers(&bytes, &ptrs, &l, 1).is_ok(), ok);
        if let Err(e) = validate(&bytes, &l) {
            prop_assert!(e.offset <= bytes.len());
        }
    }

    #[test]
    fn damaged_documents_never_panic(v in value(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = serde_json::to_vec(&v).unwrap();
        let i = at.index(bytes.len() + 1);
        bytes.insert(i, byte);
        let l = Limits::default();
        let ok = validate(&bytes, &l).is_ok();
        prop_assert_eq!(parse(&bytes, &l).is_ok(), ok);
        prop_assert_eq!(prepare_document(&bytes, &l, 1).is_ok(), ok);
        let _ = extract_str(&bytes, "/0", &l);
    }
}

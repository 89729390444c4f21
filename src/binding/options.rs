//! The one reader of JS options objects: a `#[derive(Deserialize)]` struct names the
//! options it accepts, [`read`] fills it from the object and throws a coded `TypeError` or
//! `RangeError` that names the bad option.
//!
//! Only the struct's own fields are read (`napi_get_named_property` per field), so an
//! options object may carry other keys for the JS side. `undefined` reads as absent, as JS
//! callers expect from `{ ttl: undefined }`; `null` is a value (an `Option` field reads it
//! as `None`, any other field rejects it).
//!
//! Bounds live in the field types: [`Int`] is an integer in `MIN..=MAX`, [`Float`] a finite
//! number in `MIN..=MAX`, so the struct declares each option's type and range once and
//! the messages come out the same for every facade. Construction-time only: nothing here
//! runs on a per-call path.

use std::ffi::CString;
use std::fmt;
use std::ptr;

use napi::bindgen_prelude::Object;
use napi::{sys, Env, JsValue, Result};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, Expected, IntoDeserializer, MapAccess,
    Unexpected, Visitor,
};
use serde::Deserialize;

use super::errors;

/// Why an option was refused. `range`: the type was right, the value was not.
#[derive(Debug)]
pub struct Invalid {
    pub range: bool,
    pub msg: String,
    /// The option a `missing_field` error is about.
    pub field: Option<&'static str>,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Invalid {}

impl de::Error for Invalid {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self {
            range: true,
            msg: msg.to_string(),
            field: None,
        }
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Self {
            range: false,
            msg: format!("must be {exp}, got {}", describe(unexp)),
            field: None,
        }
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Self {
            range: true,
            msg: format!("must be {exp}, got {}", describe(unexp)),
            field: None,
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let names: Vec<String> = expected.iter().map(|v| format!("'{v}'")).collect();
        Self {
            range: true,
            msg: format!("must be one of {}, got '{variant}'", names.join(", ")),
            field: None,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        Self {
            range: false,
            msg: "is required".to_owned(),
            field: Some(field),
        }
    }
}

/// A value as JS would print it, not as serde names its Rust type.
fn describe(u: Unexpected<'_>) -> String {
    match u {
        Unexpected::Bool(b) => b.to_string(),
        Unexpected::Unsigned(n) => n.to_string(),
        Unexpected::Signed(n) => n.to_string(),
        Unexpected::Float(x) if x.is_nan() => "NaN".to_owned(),
        Unexpected::Float(x) if x.is_infinite() => {
            if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
        }
        Unexpected::Float(x) => x.to_string(),
        Unexpected::Str(s) => format!("the string '{s}'"),
        Unexpected::Unit | Unexpected::Option => "null".to_owned(),
        Unexpected::Map => "an object".to_owned(),
        Unexpected::Other(what) => what.to_owned(),
        other => other.to_string(),
    }
}

/// Reads `obj` into `T`; on a bad option throws `TypeError`/`RangeError` with `code` and
/// the message `"{what}.{option} must be …, got …"`.
pub fn read<T: DeserializeOwned>(env: &Env, obj: &Object<'_>, code: &str, what: &str) -> Result<T> {
    read_with(env, obj, code, what, true)
}

/// [`read`] for an API whose every bad option is a `TypeError`, out-of-range numbers
/// included (`LruCache`, as lru-cache throws).
pub fn read_type_errors<T: DeserializeOwned>(
    env: &Env,
    obj: &Object<'_>,
    code: &str,
    what: &str,
) -> Result<T> {
    read_with(env, obj, code, what, false)
}

/// [`read`] for an API whose options have codes of their own (`ERR_QERRORS_INVALID_LIMIT`
/// for `limit`, …): `code_of` gives the code for the option that was refused (`None` when
/// the error names no option).
pub fn read_coded<T: DeserializeOwned>(
    env: &Env,
    obj: &Object<'_>,
    code_of: fn(Option<&str>) -> &'static str,
    what: &str,
) -> Result<T> {
    read_by(env, obj, code_of, what, true)
}

fn read_with<T: DeserializeOwned>(
    env: &Env,
    obj: &Object<'_>,
    code: &str,
    what: &str,
    range_errors: bool,
) -> Result<T> {
    read_by(env, obj, |_| code, what, range_errors)
}

fn read_by<'c, T: DeserializeOwned>(
    env: &Env,
    obj: &Object<'_>,
    code_of: impl Fn(Option<&str>) -> &'c str,
    what: &str,
    range_errors: bool,
) -> Result<T> {
    let mut de = ObjectDe {
        env: env.raw(),
        obj: obj.raw(),
        failed_key: None,
    };
    match T::deserialize(&mut de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let key = de.failed_key.or(e.field);
            let code = code_of(key);
            let msg = match key {
                Some(key) => format!("{what}.{key} {}", e.msg),
                None => format!("{what}: {}", e.msg),
            };
            if e.range && range_errors {
                errors::range_error(env, code, &msg)
            } else {
                errors::type_error(env, code, &msg)
            }
        }
    }
}

/// The options object; only `deserialize_struct` makes sense for it.
struct ObjectDe {
    env: sys::napi_env,
    obj: sys::napi_value,
    /// The option being read when an error happened.
    failed_key: Option<&'static str>,
}

impl<'de> Deserializer<'de> for &mut ObjectDe {
    type Error = Invalid;

    fn deserialize_any<V: Visitor<'de>>(
        self,
        _visitor: V,
    ) -> std::result::Result<V::Value, Invalid> {
        Err(de::Error::custom("options must be read into a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> std::result::Result<V::Value, Invalid> {
        let mut access = Fields {
            de: self,
            fields,
            next: 0,
            value: None,
        };
        visitor.visit_map(&mut access)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

struct Fields<'a> {
    de: &'a mut ObjectDe,
    fields: &'static [&'static str],
    next: usize,
    value: Option<Prim>,
}

impl<'de> MapAccess<'de> for Fields<'_> {
    type Error = Invalid;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> std::result::Result<Option<K::Value>, Invalid> {
        while let Some(&name) = self.fields.get(self.next) {
            self.next += 1;
            // SAFETY: env and obj belong to the running napi call that invoked `read`.
            let value = unsafe { property(self.de.env, self.de.obj, name) };
            match value {
                Ok(None) => continue,
                Ok(Some(v)) => {
                    self.value = Some(v);
                    return seed.deserialize(name.into_deserializer()).map(Some);
                }
                Err(e) => {
                    self.de.failed_key = Some(name);
                    return Err(e);
                }
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> std::result::Result<V::Value, Invalid> {
        let key = self.fields[self.next - 1];
        let value = self.value.take().unwrap_or(Prim::Null);
        seed.deserialize(value).inspect_err(|_| {
            self.de.failed_key = Some(key);
        })
    }
}

/// One option's value: what JS options hold.
enum Prim {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// An object, array or function: no option of ours takes one.
    Other(&'static str),
}

/// Reads one property; `None` when it is `undefined`.
///
/// # Safety
/// `env` and `obj` must be valid for the running napi call.
unsafe fn property(
    env: sys::napi_env,
    obj: sys::napi_value,
    name: &str,
) -> std::result::Result<Option<Prim>, Invalid> {
    let cname = CString::new(name).unwrap_or_default();
    let mut v = ptr::null_mut();
    if sys::napi_get_named_property(env, obj, cname.as_ptr(), &mut v) != sys::Status::napi_ok {
        return Err(de::Error::custom("could not be read"));
    }
    let mut t = sys::ValueType::napi_undefined;
    sys::napi_typeof(env, v, &mut t);
    Ok(Some(match t {
        sys::ValueType::napi_undefined => return Ok(None),
        sys::ValueType::napi_null => Prim::Null,
        sys::ValueType::napi_boolean => {
            let mut b = false;
            sys::napi_get_value_bool(env, v, &mut b);
            Prim::Bool(b)
        }
        sys::ValueType::napi_number => {
            let mut x = 0.0;
            sys::napi_get_value_double(env, v, &mut x);
            Prim::Num(x)
        }
        sys::ValueType::napi_string => {
            Prim::Str(super::raw::read_string(env, v).unwrap_or_default())
        }
        sys::ValueType::napi_function => Prim::Other("a function"),
        _ => Prim::Other("an object"),
    }))
}

impl<'de> Deserializer<'de> for Prim {
    type Error = Invalid;

    fn deserialize_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, Invalid> {
        match self {
            Prim::Null => visitor.visit_unit(),
            Prim::Bool(b) => visitor.visit_bool(b),
            Prim::Num(x) => visitor.visit_f64(x),
            Prim::Str(s) => visitor.visit_string(s),
            Prim::Other(what) => Err(de::Error::invalid_type(Unexpected::Other(what), &visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, Invalid> {
        match self {
            Prim::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> std::result::Result<V::Value, Invalid> {
        match self {
            Prim::Str(s) => visitor.visit_enum(s.into_deserializer()),
            other => other.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

/// An integer option in `MIN..=MAX` (a JS number without a fraction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Int<const MIN: u64, const MAX: u64>(pub u64);

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Int<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<const MIN: u64, const MAX: u64>;
        impl<const MIN: u64, const MAX: u64> Visitor<'_> for V<MIN, MAX> {
            type Value = Int<MIN, MAX>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an integer from {MIN} to {MAX}")
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> std::result::Result<Self::Value, E> {
                if x.fract() == 0.0 && x >= MIN as f64 && x <= MAX as f64 {
                    Ok(Int(x as u64))
                } else {
                    Err(E::invalid_value(Unexpected::Float(x), &self))
                }
            }
        }
        d.deserialize_f64(V::<MIN, MAX>)
    }
}

/// A finite number option in `MIN..=MAX` (bounds as integers, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Float<const MIN: u64, const MAX: u64>(pub f64);

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Float<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<const MIN: u64, const MAX: u64>;
        impl<const MIN: u64, const MAX: u64> Visitor<'_> for V<MIN, MAX> {
            type Value = Float<MIN, MAX>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a number from {MIN} to {MAX}")
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> std::result::Result<Self::Value, E> {
                if x >= MIN as f64 && x <= MAX as f64 {
                    Ok(Float(x))
                } else {
                    Err(E::invalid_value(Unexpected::Float(x), &self))
                }
            }
        }
        d.deserialize_f64(V::<MIN, MAX>)
    }
}

/// Largest integer a JS number holds exactly.
pub const MAX_SAFE: u64 = (1 << 53) - 1;

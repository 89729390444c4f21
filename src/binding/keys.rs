//! Key arguments of raw methods: one reader, [`with_key`], that gets a JS string key into
//! a stack buffer (a heap buffer only for long keys) and runs the method body on its
//! bytes, or throws a coded `TypeError` when the argument is not a string.
//!
//! The byte form is chosen by the caller's type parameter:
//! - [`Wtf8Key`]: the key's UTF-8 bytes; the rate limiter uses it because `checkBatch`
//!   hands it keys as UTF-8 bytes in a Buffer, and a key must hash the same either way.
//!   The key is read as UTF-16 units (exact, where N-API's UTF-8 read turns every lone
//!   surrogate into U+FFFD, so `user-\ud800`, `user-\udfff` and `user-\ufffd` would
//!   share one bucket): an ASCII key is narrowed to its bytes, any other is encoded as
//!   WTF-8 ([`wtf8`]: UTF-8 extended to lone surrogates, `ED A0 80`..`ED BF BF`, which
//!   well-formed UTF-8 never holds), so a well-formed key has its UTF-8 bytes. Why UTF-16
//!   first: `String::Write` copies a short key for a fraction of what `String::WriteUtf8`
//!   costs (perf on 10 000 keys: ~2% of a check against ~23%).
//!
//! The Redis store names keys by strings instead: [`escaped_string`] keeps distinct JS
//! strings distinct there (see [`escaped`]).
//!
//! The form is `#[inline]` and monomorphized, so a method pays exactly the reads it did when
//! each facade carried its own copy.

use std::fmt::Write;
use std::mem::MaybeUninit;
use std::ptr;

use napi::sys;

use super::raw;

/// Keys shorter than this many UTF-16 units are read into stack buffers; longer keys are
/// read into one heap allocation and hashed the same way (never rejected, never truncated).
pub const STACK_KEY_UNITS: usize = 256;

/// The error thrown when a key argument is not a string: `(code, message)`.
pub type BadKey = (&'static str, &'static str);

/// How a key's bytes are formed; see the module docs.
pub trait KeyForm {
    /// Runs `f` on the key's bytes; `None` when `v` is not a string.
    ///
    /// # Safety
    /// `env` and `v` must be valid for the running callback.
    unsafe fn with(
        env: sys::napi_env,
        v: sys::napi_value,
        f: impl FnOnce(&[u8]) -> sys::napi_value,
    ) -> Option<sys::napi_value>;
}

/// UTF-8 bytes of the key (WTF-8 when it holds a lone surrogate).
pub struct Wtf8Key;

/// Reads the key argument `v` in form `K` and runs `f` on its bytes; throws a `TypeError`
/// with `bad` when `v` is not a string.
///
/// # Safety
/// `env` and `v` must be valid for the running callback.
#[inline]
pub unsafe fn with_key<K: KeyForm>(
    env: sys::napi_env,
    v: sys::napi_value,
    bad: BadKey,
    f: impl FnOnce(&[u8]) -> sys::napi_value,
) -> sys::napi_value {
    match K::with(env, v, f) {
        Some(r) => r,
        None => raw::throw_type_error(env, bad.0, bad.1),
    }
}

impl KeyForm for Wtf8Key {
    #[inline]
    unsafe fn with(
        env: sys::napi_env,
        v: sys::napi_value,
        f: impl FnOnce(&[u8]) -> sys::napi_value,
    ) -> Option<sys::napi_value> {
        // Uninitialized: zeroing the two buffers was a 768-byte memset per call (12% of a
        // check on 10 000 keys).
        let mut units = [MaybeUninit::<u16>::uninit(); STACK_KEY_UNITS];
        let mut n = 0usize;
        if sys::napi_get_value_string_utf16(env, v, units.as_mut_ptr().cast(), units.len(), &mut n)
            != sys::Status::napi_ok
        {
            return None;
        }
        if n + 1 >= units.len() {
            // Possibly cut: read the whole key.
            return read_units(env, v).map(|u| f(&wtf8(&u)));
        }
        // SAFETY: N-API wrote `n` units (and a NUL after them).
        let units = std::slice::from_raw_parts(units.as_ptr().cast::<u16>(), n);
        if units.iter().fold(0u16, |acc, &u| acc | u) >= 0x80 {
            return Some(f(&wtf8(units)));
        }
        // ASCII: its UTF-8 is one byte per unit.
        let mut bytes = [MaybeUninit::<u8>::uninit(); STACK_KEY_UNITS];
        for (b, &u) in bytes.iter_mut().zip(units) {
            b.write(u as u8);
        }
        // SAFETY: the first `n` bytes were written just above.
        Some(f(std::slice::from_raw_parts(
            bytes.as_ptr().cast::<u8>(),
            n,
        )))
    }
}

/// WTF-8 of UTF-16 units: UTF-8 for well-formed text, the 3-byte generalized form for a
/// lone surrogate. Injective on UTF-16.
fn wtf8(units: &[u16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(units.len() * 3);
    for r in char::decode_utf16(units.iter().copied()) {
        match r {
            Ok(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            Err(e) => {
                let u = e.unpaired_surrogate();
                out.extend_from_slice(&[
                    0xE0 | (u >> 12) as u8,
                    0x80 | ((u >> 6) & 0x3F) as u8,
                    0x80 | (u & 0x3F) as u8,
                ]);
            }
        }
    }
    out
}

/// A valid `String` naming UTF-16 units exactly, for Redis key names: U+FFFD plus four hex
/// digits for every lone surrogate and every real U+FFFD, every other character as
/// itself. Injective; a key without U+FFFD keeps its name.
fn escaped(units: &[u16]) -> String {
    let mut out = String::with_capacity(units.len() + 8);
    for r in char::decode_utf16(units.iter().copied()) {
        let unit = match r {
            Ok('\u{FFFD}') => 0xFFFD,
            Ok(c) => {
                out.push(c);
                continue;
            }
            Err(e) => e.unpaired_surrogate(),
        };
        out.push('\u{FFFD}');
        let _ = write!(out, "{unit:04x}");
    }
    out
}

/// The UTF-16 units of a JS string; `None` when `v` is not a string.
///
/// # Safety
/// `env` and `v` must be valid for the running callback.
unsafe fn read_units(env: sys::napi_env, v: sys::napi_value) -> Option<Vec<u16>> {
    let mut len = 0usize;
    if sys::napi_get_value_string_utf16(env, v, ptr::null_mut(), 0, &mut len)
        != sys::Status::napi_ok
    {
        return None;
    }
    let mut units = vec![0u16; len + 1];
    let mut n = 0usize;
    sys::napi_get_value_string_utf16(env, v, units.as_mut_ptr(), len + 1, &mut n);
    units.truncate(n);
    Some(units)
}

/// A string key as a `String` that keeps distinct JS strings distinct (see [`escaped`]);
/// `None` when `v` is not a string.
///
/// # Safety
/// `env` and `v` must be valid for the running callback.
pub unsafe fn escaped_string(env: sys::napi_env, v: sys::napi_value) -> Option<String> {
    let s = raw::read_string(env, v)?;
    if !s.contains('\u{FFFD}') {
        return Some(s);
    }
    read_units(env, v).map(|u| escaped(&u))
}

/// Whether every unit fits in a byte. A branch-free OR over the slice: the compiler
/// vectorizes it, where an early-exit `all` runs one unit per cycle.
#[inline]
pub fn fits_latin1(units: &[u16]) -> bool {
    units.iter().fold(0u16, |acc, &u| acc | u) < 0x100
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn well_formed_keys_keep_their_utf8() {
        for s in ["user-1", "é", "日本", "🦀 key", "\u{FFFD}", ""] {
            assert_eq!(wtf8(&utf16(s)), s.as_bytes(), "{s}");
        }
        for s in ["user-1", "é", "日本", "🦀 key", ""] {
            assert_eq!(escaped(&utf16(s)), s, "{s}");
        }
    }

    #[test]
    fn lone_surrogates_stay_distinct() {
        let keys: Vec<Vec<u16>> = [0xD800u16, 0xDBFF, 0xDC00, 0xDFFF, 0xFFFD]
            .iter()
            .map(|&u| {
                let mut k = utf16("user-");
                k.push(u);
                k
            })
            .collect();
        let mut bytes: Vec<Vec<u8>> = keys.iter().map(|k| wtf8(k)).collect();
        let mut strings: Vec<String> = keys.iter().map(|k| escaped(k)).collect();
        assert_eq!(wtf8(&keys[0]), b"user-\xED\xA0\x80");
        assert_eq!(escaped(&keys[0]), "user-\u{FFFD}d800");
        assert_eq!(escaped(&keys[4]), "user-\u{FFFD}fffd");
        bytes.sort();
        bytes.dedup();
        strings.sort();
        strings.dedup();
        assert_eq!((bytes.len(), strings.len()), (5, 5));
        for b in &bytes[..] {
            let lone = b.windows(3).any(|w| w[0] == 0xED && w[1] >= 0xA0);
            assert_eq!(std::str::from_utf8(b).is_err(), lone);
        }
    }

    #[test]
    fn escaping_cannot_be_imitated_by_text() {
        // A real U+FFFD followed by "d800" differs from a lone \ud800.
        let mut lone = utf16("a");
        lone.push(0xD800);
        assert_ne!(escaped(&lone), escaped(&utf16("a\u{FFFD}d800")));
        // A surrogate pair is one character, not two escapes.
        assert_eq!(escaped(&[0xD83E, 0xDD80]), "🦀");
        assert_eq!(escaped(&[0xDD80, 0xD83E]), "\u{FFFD}dd80\u{FFFD}d83e");
    }
}

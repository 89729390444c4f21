//! Values of the native cache (`Stored`): the form each JS value is kept in, how it is
//! read from a JS argument and made again for JS, and its share of the bytes all caches
//! hold (`LIVE_BYTES`).

use std::ptr;
use std::sync::atomic::Ordering;

use napi::sys;

use super::LIVE_BYTES;
use crate::binding::keys::fits_latin1;
use crate::binding::raw;

/// A stored value, in the form cheapest to turn back into its JS value.
pub(super) enum Stored {
    /// A string whose UTF-16 units all fit in a byte.
    Latin1(Box<[u8]>),
    /// Any other string.
    Utf16(Box<[u16]>),
    /// A Buffer or TypedArray; comes back as a Buffer.
    Bytes(Box<[u8]>),
    /// Kept by reference on the JS side under the same slot.
    Js,
}

impl Stored {
    fn byte_len(&self) -> usize {
        match self {
            Stored::Latin1(b) | Stored::Bytes(b) => b.len(),
            Stored::Utf16(u) => u.len() * 2,
            Stored::Js => 0,
        }
    }

    pub(super) fn counted(self) -> Self {
        LIVE_BYTES.fetch_add(self.byte_len() as i64, Ordering::Relaxed);
        self
    }

    /// # Safety
    /// `env` must be valid for the running callback.
    pub(super) unsafe fn to_js(&self, env: sys::napi_env) -> sys::napi_value {
        let mut out = ptr::null_mut();
        match self {
            Stored::Latin1(b) => {
                sys::napi_create_string_latin1(env, b.as_ptr().cast(), b.len() as isize, &mut out);
            }
            Stored::Utf16(u) => {
                sys::napi_create_string_utf16(env, u.as_ptr(), u.len() as isize, &mut out);
            }
            Stored::Bytes(b) => {
                let mut data = ptr::null_mut();
                sys::napi_create_buffer_copy(env, b.len(), b.as_ptr().cast(), &mut data, &mut out);
            }
            Stored::Js => out = raw::null(env),
        }
        out
    }
}

impl Drop for Stored {
    fn drop(&mut self) {
        LIVE_BYTES.fetch_sub(self.byte_len() as i64, Ordering::Relaxed);
    }
}

thread_local! {
    /// Scratch space for reading string values, kept between calls (up to
    /// `SCRATCH_KEEP` units) so a `set` allocates only the stored copy.
    static SCRATCH: std::cell::RefCell<Vec<u16>> = const { std::cell::RefCell::new(Vec::new()) };
}

const SCRATCH_KEEP: usize = 64 * 1024;

/// Copies a JS string into Rust memory, as Latin-1 when every unit fits in a byte.
///
/// # Safety
/// `env` and `v` must be valid for the running callback and `v` a string.
pub(super) unsafe fn read_string_value(env: sys::napi_env, v: sys::napi_value) -> Stored {
    SCRATCH.with(|cell| {
        let mut s = cell.borrow_mut();
        s.clear();
        s.reserve(2048);
        // One read into the scratch space as it is; N-API writes at most capacity - 1
        // units plus a NUL, so a full buffer may be cut: then ask the length and read again.
        let mut n = 0usize;
        sys::napi_get_value_string_utf16(env, v, s.as_mut_ptr(), s.capacity(), &mut n);
        if n + 1 >= s.capacity() {
            let mut len = 0usize;
            sys::napi_get_value_string_utf16(env, v, ptr::null_mut(), 0, &mut len);
            s.reserve(len + 1);
            sys::napi_get_value_string_utf16(env, v, s.as_mut_ptr(), len + 1, &mut n);
        }
        // SAFETY: N-API initialized the first `n` units of the capacity.
        s.set_len(n);
        let out = if fits_latin1(&s) {
            Stored::Latin1(s.iter().map(|&u| u as u8).collect())
        } else {
            Stored::Utf16(Box::from(&s[..]))
        };
        if s.capacity() > SCRATCH_KEEP {
            *s = Vec::new();
        }
        out
    })
}

/// Reads a value argument: a string, a Buffer or TypedArray, or `null` (kept by JS).
///
/// # Safety
/// `env` and `v` must be valid for the running callback.
pub(super) unsafe fn read_value(env: sys::napi_env, v: sys::napi_value) -> Option<Stored> {
    let mut t = 0;
    sys::napi_typeof(env, v, &mut t);
    if t == sys::ValueType::napi_string {
        return Some(read_string_value(env, v));
    }
    if t == sys::ValueType::napi_null {
        return Some(Stored::Js);
    }
    raw::bytes(env, v).map(|b| Stored::Bytes(Box::from(b)))
}

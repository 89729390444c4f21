//! Small, documented wrappers over raw N-API (`napi::sys`) for hot entry points.
//!
//! napi-rs's generated glue costs 120-400 ns per call on this machine; raw N-API costs
//! 20-50 ns (docs/lru-cache.md and docs/rate-limiter.md give the measurements). Hot
//! per-operation functions (limiter checks, breaker accounting, cache get/set) are
//! therefore written as `extern "C"` callbacks, all defined through [`raw_method!`], that
//! get their Rust state through the callback data pointer.
//!
//! Ownership: [`bind_methods`] gives every created JS function its own strong `Arc`
//! to the state, released by a finalizer on that function. The state lives as long as
//! any of its functions is reachable from JS, so a detached method (`const f = o.check`)
//! can never see freed memory.
//!
//! Panics: every callback body runs inside [`guard`], which turns a panic into a thrown
//! JS `Error` with code `ERR_QERRORS_PANIC` instead of aborting Node.

use std::ffi::{c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

use napi::{sys, JsValue};

/// A raw callback as N-API wants it.
pub type RawCallback =
    unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// Arguments of one raw call: up to `N` values (missing ones are `undefined`), the
/// count actually passed, and the state pointer given to [`bind_methods`].
pub struct CallArgs<const N: usize> {
    pub argv: [sys::napi_value; N],
    pub argc: usize,
    pub data: *mut c_void,
}

/// Reads the arguments and the data pointer of a raw call.
///
/// # Safety
/// `env` and `info` must be the values N-API passed to the running callback.
#[inline]
pub unsafe fn args<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> CallArgs<N> {
    let mut argv = [ptr::null_mut(); N];
    let mut argc = N;
    let mut data = ptr::null_mut();
    sys::napi_get_cb_info(
        env,
        info,
        &mut argc,
        argv.as_mut_ptr(),
        ptr::null_mut(),
        &mut data,
    );
    CallArgs { argv, argc, data }
}

/// Borrows the state behind a data pointer created by [`bind_methods`].
///
/// # Safety
/// `data` must come from [`bind_methods`] with the same `T`; the function holding it is
/// alive while its callback runs, so the `Arc` it owns keeps the state alive.
#[inline]
pub unsafe fn state<'a, T>(data: *mut c_void) -> &'a T {
    &*(data as *const T)
}

/// Runs a callback body, converting a panic into a thrown JS error.
///
/// # Safety
/// `env` must be the callback's environment.
#[inline]
pub unsafe fn guard(env: sys::napi_env, body: impl FnOnce() -> sys::napi_value) -> sys::napi_value {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(_) => throw_error(
            env,
            "ERR_QERRORS_PANIC",
            "qerrors native code panicked; this is a bug",
        ),
    }
}

/// Defines a raw N-API method: the one prologue every hot entry point shares.
///
/// `raw_method!(name, N, |env, a, st: &State| body)` defines
/// `unsafe extern "C" fn name(env, info)` that runs `body` inside [`guard`] with `a` the
/// first `N` arguments ([`args`]) and `st` the state [`bind_methods`] bound to the
/// function. The expansion is exactly the prologue each facade used to write by hand, so
/// a method costs what it did.
macro_rules! raw_method {
    ($(#[$doc:meta])* $name:ident, $n:literal, |$env:ident, $a:ident, $st:ident: &$T:ty| $body:expr) => {
        $(#[$doc])*
        unsafe extern "C" fn $name(
            $env: napi::sys::napi_env,
            info: napi::sys::napi_callback_info,
        ) -> napi::sys::napi_value {
            $crate::binding::raw::guard($env, || {
                let $a = $crate::binding::raw::args::<$n>($env, info);
                let $st: &$T = $crate::binding::raw::state($a.data);
                $body
            })
        }
    };
}
pub(crate) use raw_method;

/// Reads a JS number. `None` when the value is not a number.
///
/// # Safety
/// `env` and `v` must be valid for the running callback.
#[inline]
pub unsafe fn get_f64(env: sys::napi_env, v: sys::napi_value) -> Option<f64> {
    let mut out = 0.0;
    (sys::napi_get_value_double(env, v, &mut out) == sys::Status::napi_ok).then_some(out)
}

/// Outcome of reading a string into a caller-provided buffer.
pub enum StrRead<'a> {
    /// The UTF-8 bytes of the whole string.
    Ok(&'a [u8]),
    /// The string has this many UTF-8 bytes, more than the buffer holds.
    TooLong(usize),
    /// The value is not a string.
    NotString,
}

/// Reads a JS string as UTF-8 into `buf` (usually on the stack) without allocating.
///
/// # Safety
/// `env` and `v` must be valid for the running callback.
#[inline]
pub unsafe fn read_str<'a>(
    env: sys::napi_env,
    v: sys::napi_value,
    buf: &'a mut [u8],
) -> StrRead<'a> {
    let mut len = 0usize;
    // N-API writes at most bufsize-1 bytes plus a NUL, so a result that fills the
    // buffer may have been cut: ask for the full length in that case.
    if sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr().cast(), buf.len(), &mut len)
        != sys::Status::napi_ok
    {
        return StrRead::NotString;
    }
    if len + 1 < buf.len() {
        return StrRead::Ok(&buf[..len]);
    }
    let mut full = 0usize;
    sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut full);
    if full < buf.len() {
        StrRead::Ok(&buf[..full])
    } else {
        StrRead::TooLong(full)
    }
}

/// Reads a JS string of any length into a new `String`. `None` when not a string.
///
/// # Safety
/// `env` and `v` must be valid for the running callback.
pub unsafe fn read_string(env: sys::napi_env, v: sys::napi_value) -> Option<String> {
    let mut len = 0usize;
    if sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len) != sys::Status::napi_ok
    {
        return None;
    }
    let mut bytes = vec![0u8; len + 1];
    let mut written = 0usize;
    sys::napi_get_value_string_utf8(env, v, bytes.as_mut_ptr().cast(), bytes.len(), &mut written);
    bytes.truncate(written);
    // N-API always produces valid UTF-8 (lone surrogates become U+FFFD).
    String::from_utf8(bytes).ok()
}

/// A TypedArray's (kind, element count, data pointer), or `None` for any other value.
///
/// # Safety
/// The pointer is valid only during the running callback, while JS cannot run.
pub unsafe fn typed_array(
    env: sys::napi_env,
    v: sys::napi_value,
) -> Option<(sys::napi_typedarray_type, usize, *mut std::ffi::c_void)> {
    let mut is_ta = false;
    if v.is_null() || sys::napi_is_typedarray(env, v, &mut is_ta) != sys::Status::napi_ok || !is_ta
    {
        return None;
    }
    let mut kind = 0;
    let mut len = 0usize;
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut offset = 0usize;
    if sys::napi_get_typedarray_info(
        env,
        v,
        &mut kind,
        &mut len,
        &mut data,
        &mut buffer,
        &mut offset,
    ) != sys::Status::napi_ok
    {
        return None;
    }
    Some((kind, len, data))
}

/// Borrows the bytes of a Buffer or any TypedArray (zero copy). `None` otherwise.
///
/// # Safety
/// The slice is valid only during the running callback, while JS cannot run.
pub unsafe fn bytes<'a>(env: sys::napi_env, v: sys::napi_value) -> Option<&'a [u8]> {
    let (kind, len, data) = typed_array(env, v)?;
    let bytes_len = len * typed_array_element_size(kind);
    if bytes_len == 0 || data.is_null() {
        return Some(&[]);
    }
    Some(std::slice::from_raw_parts(data as *const u8, bytes_len))
}

/// Borrows an `Int32Array` mutably (zero copy). `None` for any other value.
///
/// # Safety
/// The slice is valid only during the running callback, while JS cannot run.
pub unsafe fn int32_array<'a>(env: sys::napi_env, v: sys::napi_value) -> Option<&'a mut [i32]> {
    let (kind, len, data) = typed_array(env, v)?;
    if kind != sys::TypedarrayType::int32_array {
        return None;
    }
    if len == 0 || data.is_null() {
        return Some(&mut []);
    }
    Some(std::slice::from_raw_parts_mut(data as *mut i32, len))
}

fn typed_array_element_size(kind: sys::napi_typedarray_type) -> usize {
    match kind {
        sys::TypedarrayType::int16_array | sys::TypedarrayType::uint16_array => 2,
        sys::TypedarrayType::int32_array
        | sys::TypedarrayType::uint32_array
        | sys::TypedarrayType::float32_array => 4,
        sys::TypedarrayType::float64_array
        | sys::TypedarrayType::bigint64_array
        | sys::TypedarrayType::biguint64_array => 8,
        _ => 1,
    }
}

/// # Safety
/// `env` must be valid for the running callback.
#[inline]
pub unsafe fn f64_value(env: sys::napi_env, x: f64) -> sys::napi_value {
    let mut out = ptr::null_mut();
    sys::napi_create_double(env, x, &mut out);
    out
}

/// # Safety
/// `env` must be valid for the running callback.
#[inline]
pub unsafe fn i32_value(env: sys::napi_env, x: i32) -> sys::napi_value {
    let mut out = ptr::null_mut();
    sys::napi_create_int32(env, x, &mut out);
    out
}

/// # Safety
/// `env` must be valid for the running callback.
#[inline]
pub unsafe fn bool_value(env: sys::napi_env, x: bool) -> sys::napi_value {
    let mut out = ptr::null_mut();
    sys::napi_get_boolean(env, x, &mut out);
    out
}

/// # Safety
/// `env` must be valid for the running callback.
#[inline]
pub unsafe fn undefined(env: sys::napi_env) -> sys::napi_value {
    let mut out = ptr::null_mut();
    sys::napi_get_undefined(env, &mut out);
    out
}

/// # Safety
/// `env` must be valid for the running callback.
#[inline]
pub unsafe fn null(env: sys::napi_env) -> sys::napi_value {
    let mut out = ptr::null_mut();
    sys::napi_get_null(env, &mut out);
    out
}

/// Creates a JS array holding `items` in order.
///
/// # Safety
/// `env` and every item must be valid for the running callback.
pub unsafe fn array_of(env: sys::napi_env, items: &[sys::napi_value]) -> sys::napi_value {
    let mut out = ptr::null_mut();
    sys::napi_create_array_with_length(env, items.len(), &mut out);
    for (i, v) in items.iter().enumerate() {
        sys::napi_set_element(env, out, i as u32, *v);
    }
    out
}

/// Creates a JS string from UTF-8 bytes.
///
/// # Safety
/// `env` must be valid for the running callback.
pub unsafe fn string_value(env: sys::napi_env, s: &str) -> sys::napi_value {
    let mut out = ptr::null_mut();
    sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut out);
    out
}

fn c_string(s: &str) -> CString {
    // Interior NULs cannot occur in our static codes and messages; strip them if a
    // formatted message ever carries one rather than losing the whole message.
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

/// Throws a `TypeError` with `code` and returns the null value a callback returns then.
///
/// # Safety
/// `env` must be valid for the running callback.
pub unsafe fn throw_type_error(env: sys::napi_env, code: &str, msg: &str) -> sys::napi_value {
    let (c, m) = (c_string(code), c_string(msg));
    sys::napi_throw_type_error(env, c.as_ptr(), m.as_ptr());
    ptr::null_mut()
}

/// Throws a `RangeError` with `code`.
///
/// # Safety
/// `env` must be valid for the running callback.
pub unsafe fn throw_range_error(env: sys::napi_env, code: &str, msg: &str) -> sys::napi_value {
    let (c, m) = (c_string(code), c_string(msg));
    sys::napi_throw_range_error(env, c.as_ptr(), m.as_ptr());
    ptr::null_mut()
}

/// Throws an `Error` with `code`.
///
/// # Safety
/// `env` must be valid for the running callback.
pub unsafe fn throw_error(env: sys::napi_env, code: &str, msg: &str) -> sys::napi_value {
    let (c, m) = (c_string(code), c_string(msg));
    sys::napi_throw_error(env, c.as_ptr(), m.as_ptr());
    ptr::null_mut()
}

unsafe extern "C" fn release_arc<T>(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    drop(Arc::from_raw(data as *const T));
}

/// Defines raw methods on `target`, each bound to its own strong reference to `state`.
///
/// `methods` holds `(name, callback)` pairs; inside a callback, [`args`] returns the
/// state pointer as `data` and [`state`] borrows it.
pub fn bind_methods<T: Send + Sync + 'static>(
    env: &napi::Env,
    target: &napi::bindgen_prelude::Object<'_>,
    state: &Arc<T>,
    methods: &[(&str, RawCallback)],
) -> napi::Result<()> {
    let raw_env = env.raw();
    for (name, cb) in methods {
        let data = Arc::into_raw(Arc::clone(state)) as *mut c_void;
        let cname = c_string(name);
        let mut func = ptr::null_mut();
        // SAFETY: raw_env is the live env of this call; data is a leaked Arc that the
        // finalizer below reclaims exactly once.
        unsafe {
            let status = sys::napi_create_function(
                raw_env,
                cname.as_ptr(),
                name.len() as isize,
                Some(*cb),
                data,
                &mut func,
            );
            if status != sys::Status::napi_ok {
                drop(Arc::from_raw(data as *const T));
                return Err(napi::Error::from_reason(format!(
                    "cannot create native method {name}"
                )));
            }
            let status = sys::napi_add_finalizer(
                raw_env,
                func,
                data,
                Some(release_arc::<T>),
                ptr::null_mut(),
                ptr::null_mut(),
            );
            if status != sys::Status::napi_ok {
                drop(Arc::from_raw(data as *const T));
                return Err(napi::Error::from_reason(format!(
                    "cannot attach finalizer to {name}"
                )));
            }
            let status = sys::napi_set_named_property(raw_env, target.raw(), cname.as_ptr(), func);
            if status != sys::Status::napi_ok {
                return Err(napi::Error::from_reason(format!(
                    "cannot define native method {name}"
                )));
            }
        }
    }
    Ok(())
}

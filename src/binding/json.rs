//! napi glue for `crate::core::json`: validation and preparation run on the libuv pool
//! (`AsyncTask`), and the result crosses as a few strings, never as a JS object tree.
//!
//! What crosses back (`lib/native/json.js` turns it into values and errors):
//! - ok: `[0, p0, p1, ...]`, one `p` per requested value, where `p` is
//!   `undefined` (no value at that pointer), a string (the value, already decoded),
//!   `null` (parse the caller's own input string as it is), or
//!   `[jsonText, sentinel, path, big, ...]` (parse `jsonText`, then put each big value
//!   where its sentinel is: `big` is a string, or an array of JSON texts of arrays whose
//!   concatenation is the value);
//! - `[2]`: valid, but the string input holds lone surrogates, which UTF-8 cannot carry:
//!   evaluate the caller's own string;
//! - failure: `[1, kind, reason, line, column, offset]` with kind `'parse'`, `'limit'`
//!   or `'panic'`. Positions count bytes for a byte input and UTF-16 code units for a
//!   string input.
//!
//! Strings are decoded to Latin-1 or UTF-16 off the main thread, so creating them on
//! the main thread is a copy, not a UTF-8 decode.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use napi::bindgen_prelude::{AsyncTask, Either, ToNapiValue, TypeName, Uint8Array, Utf16String};
use napi::{sys, Env, Result, Task, ValueType};
use napi_derive::napi;

use crate::binding::errors;
use crate::core::json::{
    self, ErrorKind, JsText, JsonError, Limits, PatchValue, PathSeg, Pointer, Prepared,
    MAX_DEPTH_CAP,
};

/// A JS string arrives as its UTF-16 code units (a plain copy on the main thread) and
/// is encoded to UTF-8 on the worker: encoding a multi-MB string costs the main thread
/// more than parsing it. Lone surrogates become U+FFFD for the scan (one unit like the
/// original, so positions in UTF-16 units stay exact); a valid document that had any
/// is then evaluated by JS on the original string (`Outcome::UseOriginal`).
///
/// Bytes for a worker are copied too, on the main thread when the job starts (a memcpy,
/// about 1 ms per 5-10 MB, a fraction of the parse): the worker must own what it reads.
/// Borrowing the caller's ArrayBuffer let a transfer (`postMessage`, `structuredClone`
/// with `transfer`) or `ArrayBuffer.prototype.transfer` free the memory under the
/// running scan, and N-API has no way to pin a buffer against detaching. The `*Sync`
/// variants run while no JS can, so they borrow.
enum Input {
    Owned(Vec<u8>),
    Borrowed(Uint8Array),
    Text(Utf16String),
}

enum Job {
    Parse,
    Extract(Vec<Pointer>),
}

/// What a job produced, ready to become JS values.
pub enum Outcome {
    Values(Vec<Option<Value>>),
    /// Valid, but a string input with lone surrogates: JS evaluates its own string.
    UseOriginal,
    Failed(JsonError),
    Panicked,
}

/// One prepared value, or `Original`: parse the caller's string input unchanged.
pub enum Value {
    Prepared(Prepared),
    Original,
}

/// The off-thread part of `jsonParse`/`jsonExtract`.
pub struct JsonTask {
    input: Input,
    job: Job,
    limits: Limits,
}

impl JsonTask {
    fn run(&self) -> Outcome {
        let text;
        let mut lone_surrogates = false;
        let bytes: &[u8] = match &self.input {
            Input::Owned(b) => b,
            Input::Borrowed(b) => b,
            Input::Text(units) => {
                text = String::from_utf16(units).unwrap_or_else(|_| {
                    lone_surrogates = true;
                    String::from_utf16_lossy(units)
                });
                text.as_bytes()
            }
        };
        let nonce = fastrand::u64(..);
        let result = match &self.job {
            Job::Parse => json::prepare_document(bytes, &self.limits, nonce).map(|p| {
                let keep_original = matches!(self.input, Input::Text(_))
                    && matches!(&p, Prepared::Json { patches, .. } if patches.is_empty());
                vec![Some(if keep_original {
                    Value::Original
                } else {
                    Value::Prepared(p)
                })]
            }),
            Job::Extract(pointers) => json::prepare_pointers(bytes, pointers, &self.limits, nonce)
                .map(|v| v.into_iter().map(|p| p.map(Value::Prepared)).collect()),
        };
        match result {
            Ok(_) if lone_surrogates => Outcome::UseOriginal,
            Ok(values) => Outcome::Values(values),
            Err(mut e) => {
                if matches!(self.input, Input::Text(_)) {
                    json::to_utf16_position(&mut e, bytes);
                }
                Outcome::Failed(e)
            }
        }
    }

    fn run_guarded(&self) -> Outcome {
        catch_unwind(AssertUnwindSafe(|| self.run())).unwrap_or(Outcome::Panicked)
    }
}

impl Task for JsonTask {
    type Output = Outcome;
    type JsValue = JsonOut;

    fn compute(&mut self) -> Result<Outcome> {
        Ok(self.run_guarded())
    }

    fn resolve(&mut self, _env: Env, output: Outcome) -> Result<JsonOut> {
        Ok(JsonOut(output))
    }
}

/// An [`Outcome`] on its way to JS.
pub struct JsonOut(Outcome);

impl TypeName for JsonOut {
    fn type_name() -> &'static str {
        "Array"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

/// Checks an N-API status inside the conversion below.
fn ok(status: sys::napi_status) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::from_reason(format!(
            "N-API call failed with status {status}"
        )))
    }
}

/// Strings at least this long (in code units) are handed to V8 without a copy.
const EXTERNAL_MIN_UNITS: usize = 64 * 1024;

/// Zero-copy string creation through `node_api_create_external_string_latin1/utf16`
/// (Node 20.4+). They are looked up at run time, so on a Node without them the addon
/// still loads and strings are copied instead.
#[cfg(unix)]
mod external {
    use std::ffi::{c_char, c_void};
    use std::sync::OnceLock;

    use napi::sys;

    type Finalize = unsafe extern "C" fn(sys::napi_env, *mut c_void, *mut c_void);
    /// `node_api_create_external_string_latin1` (`C` = `c_char`) and `..._utf16` (`C` = `u16`).
    pub type Create<C> = unsafe extern "C" fn(
        sys::napi_env,
        *const C,
        isize,
        Option<Finalize>,
        *mut c_void,
        *mut sys::napi_value,
        *mut bool,
    ) -> sys::napi_status;
    pub type CreateLatin1 = Create<c_char>;
    pub type CreateUtf16 = Create<u16>;

    extern "C" {
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    }

    #[cfg(target_os = "macos")]
    const RTLD_DEFAULT: *mut c_void = -2isize as *mut c_void;
    #[cfg(not(target_os = "macos"))]
    const RTLD_DEFAULT: *mut c_void = std::ptr::null_mut();

    struct Fns {
        latin1: Option<CreateLatin1>,
        utf16: Option<CreateUtf16>,
    }

    fn fns() -> &'static Fns {
        static FNS: OnceLock<Fns> = OnceLock::new();
        FNS.get_or_init(|| {
            // SAFETY: dlsym with RTLD_DEFAULT searches the process's global symbols;
            // a found symbol is Node's exported function with exactly this signature
            // (js_native_api.h).
            unsafe {
                let l = dlsym(
                    RTLD_DEFAULT,
                    c"node_api_create_external_string_latin1".as_ptr(),
                );
                let u = dlsym(
                    RTLD_DEFAULT,
                    c"node_api_create_external_string_utf16".as_ptr(),
                );
                Fns {
                    latin1: (!l.is_null())
                        .then(|| std::mem::transmute::<*mut c_void, CreateLatin1>(l)),
                    utf16: (!u.is_null())
                        .then(|| std::mem::transmute::<*mut c_void, CreateUtf16>(u)),
                }
            }
        })
    }

    pub fn latin1() -> Option<CreateLatin1> {
        fns().latin1
    }

    pub fn utf16() -> Option<CreateUtf16> {
        fns().utf16
    }
}

/// Frees the buffer of an external string: `hint` is the leaked `Box<Vec<T>>`.
unsafe extern "C" fn free_boxed_vec<T>(
    _env: sys::napi_env,
    _data: *mut std::ffi::c_void,
    hint: *mut std::ffi::c_void,
) {
    drop(Box::from_raw(hint as *mut Vec<T>));
}

#[cfg(unix)]
unsafe fn external_text(env: sys::napi_env, t: JsText) -> Result<sys::napi_value> {
    match t {
        JsText::Latin1(v) => hand_over(env, v, external::latin1(), JsText::Latin1),
        JsText::Utf16(v) => hand_over(env, v, external::utf16(), JsText::Utf16),
    }
}

/// Gives `v` to V8 as an external string (V8 frees it through `free_boxed_vec`), or copies
/// it when this Node lacks the function or refuses the buffer.
#[cfg(unix)]
unsafe fn hand_over<T, C>(
    env: sys::napi_env,
    v: Vec<T>,
    create: Option<external::Create<C>>,
    wrap: fn(Vec<T>) -> JsText,
) -> Result<sys::napi_value> {
    let Some(create) = create else {
        return copy_text(env, &wrap(v));
    };
    let (data, len) = (v.as_ptr(), v.len());
    let hint = Box::into_raw(Box::new(v));
    let mut out = ptr::null_mut();
    let mut copied = false;
    let status = create(
        env,
        data.cast(),
        len as isize,
        Some(free_boxed_vec::<T>),
        hint.cast(),
        &mut out,
        &mut copied,
    );
    if status != sys::Status::napi_ok {
        // On failure the finalizer never runs: take the buffer back.
        return copy_text(env, &wrap(*Box::from_raw(hint)));
    }
    Ok(out)
}

#[cfg(not(unix))]
unsafe fn external_text(env: sys::napi_env, t: JsText) -> Result<sys::napi_value> {
    copy_text(env, &t)
}

/// A JS string from a [`JsText`]: big ones without a copy, others copied.
unsafe fn js_text(env: sys::napi_env, t: JsText) -> Result<sys::napi_value> {
    if t.js_len() >= EXTERNAL_MIN_UNITS {
        external_text(env, t)
    } else {
        copy_text(env, &t)
    }
}

unsafe fn copy_text(env: sys::napi_env, t: &JsText) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    match t {
        JsText::Latin1(b) => ok(sys::napi_create_string_latin1(
            env,
            b.as_ptr().cast(),
            b.len() as isize,
            &mut out,
        ))?,
        JsText::Utf16(u) => ok(sys::napi_create_string_utf16(
            env,
            u.as_ptr(),
            u.len() as isize,
            &mut out,
        ))?,
    }
    Ok(out)
}

unsafe fn array(env: sys::napi_env, items: &[sys::napi_value]) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    ok(sys::napi_create_array_with_length(
        env,
        items.len(),
        &mut out,
    ))?;
    for (i, &v) in items.iter().enumerate() {
        ok(sys::napi_set_element(env, out, i as u32, v))?;
    }
    Ok(out)
}

unsafe fn number(env: sys::napi_env, x: f64) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    ok(sys::napi_create_double(env, x, &mut out))?;
    Ok(out)
}

unsafe fn utf8(env: sys::napi_env, s: &str) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    ok(sys::napi_create_string_utf8(
        env,
        s.as_ptr().cast(),
        s.len() as isize,
        &mut out,
    ))?;
    Ok(out)
}

unsafe fn prepared(env: sys::napi_env, p: Prepared) -> Result<sys::napi_value> {
    match p {
        Prepared::String(t) => js_text(env, t),
        Prepared::Json { text, patches } => {
            let mut items = Vec::with_capacity(1 + 3 * patches.len());
            items.push(js_text(env, text)?);
            for patch in patches {
                items.push(utf8(env, &patch.sentinel)?);
                let mut path = Vec::with_capacity(patch.path.len());
                for seg in patch.path {
                    path.push(match seg {
                        PathSeg::Key(k) => js_text(env, k)?,
                        PathSeg::Index(i) => number(env, i as f64)?,
                    });
                }
                items.push(array(env, &path)?);
                items.push(match patch.value {
                    PatchValue::String(t) => js_text(env, t)?,
                    PatchValue::Chunks(chunks) => {
                        let mut texts = Vec::with_capacity(chunks.len());
                        for c in chunks {
                            texts.push(js_text(env, c)?);
                        }
                        array(env, &texts)?
                    }
                });
            }
            array(env, &items)
        }
    }
}

impl ToNapiValue for JsonOut {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let mut undefined = ptr::null_mut();
        let mut null = ptr::null_mut();
        ok(sys::napi_get_undefined(env, &mut undefined))?;
        ok(sys::napi_get_null(env, &mut null))?;
        match val.0 {
            Outcome::Values(values) => {
                let mut items = Vec::with_capacity(1 + values.len());
                items.push(number(env, 0.0)?);
                for v in values {
                    items.push(match v {
                        None => undefined,
                        Some(Value::Original) => null,
                        Some(Value::Prepared(p)) => prepared(env, p)?,
                    });
                }
                array(env, &items)
            }
            Outcome::UseOriginal => array(env, &[number(env, 2.0)?]),
            Outcome::Failed(e) => {
                let kind = match e.kind {
                    ErrorKind::Limit => "limit",
                    ErrorKind::Syntax | ErrorKind::Pointer => "parse",
                };
                let items = [
                    number(env, 1.0)?,
                    utf8(env, kind)?,
                    utf8(env, &e.reason)?,
                    number(env, e.line as f64)?,
                    number(env, e.column as f64)?,
                    number(env, e.offset as f64)?,
                ];
                array(env, &items)
            }
            Outcome::Panicked => {
                let items = [
                    number(env, 1.0)?,
                    utf8(env, "panic")?,
                    utf8(env, "qerrors native JSON code panicked; this is a bug")?,
                    number(env, 0.0)?,
                    number(env, 0.0)?,
                    number(env, 0.0)?,
                ];
                array(env, &items)
            }
        }
    }
}

fn limits(env: &Env, max_bytes: f64, max_depth: f64) -> Result<Limits> {
    let valid = |x: f64, max: f64| x.is_finite() && x >= 1.0 && x <= max && x.fract() == 0.0;
    if !valid(max_bytes, (isize::MAX as f64).min(9_007_199_254_740_991.0)) {
        return errors::range_error(
            env,
            "ERR_QERRORS_JSON_OPTION",
            "maxBytes must be a positive integer",
        );
    }
    if !valid(max_depth, MAX_DEPTH_CAP as f64) {
        return errors::range_error(
            env,
            "ERR_QERRORS_JSON_OPTION",
            &format!("maxDepth must be an integer from 1 to {MAX_DEPTH_CAP}"),
        );
    }
    Ok(Limits {
        max_bytes: max_bytes as usize,
        max_depth: max_depth as usize,
    })
}

/// The job's input: bytes copied for a job on the worker pool (`owned`), borrowed for a
/// job run on the calling thread.
fn input(value: Either<Uint8Array, Utf16String>, owned: bool) -> Input {
    match value {
        Either::A(b) if owned => Input::Owned(b.to_vec()),
        Either::A(b) => Input::Borrowed(b),
        Either::B(s) => Input::Text(s),
    }
}

fn pointers(env: &Env, list: Vec<String>) -> Result<Vec<Pointer>> {
    list.iter()
        .map(|p| {
            Pointer::parse(p)
                .or_else(|e| errors::type_error(env, "ERR_QERRORS_JSON_POINTER", &e.to_string()))
        })
        .collect()
}

/// Validates a JSON document off the main thread and prepares it for `JSON.parse`
/// (used by `json.parseAsync`; see the module docs for the result).
#[napi(catch_unwind)]
pub fn json_parse(
    env: Env,
    input_value: Either<Uint8Array, Utf16String>,
    max_bytes: f64,
    max_depth: f64,
) -> Result<AsyncTask<JsonTask>> {
    let limits = limits(&env, max_bytes, max_depth)?;
    Ok(AsyncTask::new(JsonTask {
        input: input(input_value, true),
        job: Job::Parse,
        limits,
    }))
}

/// `jsonParse` on the calling thread.
#[napi(catch_unwind)]
pub fn json_parse_sync(
    env: Env,
    input_value: Either<Uint8Array, Utf16String>,
    max_bytes: f64,
    max_depth: f64,
) -> Result<JsonOut> {
    let limits = limits(&env, max_bytes, max_depth)?;
    let task = JsonTask {
        input: input(input_value, false),
        job: Job::Parse,
        limits,
    };
    Ok(JsonOut(task.run_guarded()))
}

/// Validates a JSON document off the main thread and prepares the value of every RFC
/// 6901 pointer (used by `json.extractAsync`).
#[napi(catch_unwind)]
pub fn json_extract(
    env: Env,
    input_value: Either<Uint8Array, Utf16String>,
    pointer_list: Vec<String>,
    max_bytes: f64,
    max_depth: f64,
) -> Result<AsyncTask<JsonTask>> {
    let limits = limits(&env, max_bytes, max_depth)?;
    let job = Job::Extract(pointers(&env, pointer_list)?);
    Ok(AsyncTask::new(JsonTask {
        input: input(input_value, true),
        job,
        limits,
    }))
}

/// `jsonExtract` on the calling thread.
#[napi(catch_unwind)]
pub fn json_extract_sync(
    env: Env,
    input_value: Either<Uint8Array, Utf16String>,
    pointer_list: Vec<String>,
    max_bytes: f64,
    max_depth: f64,
) -> Result<JsonOut> {
    let limits = limits(&env, max_bytes, max_depth)?;
    let task = JsonTask {
        input: input(input_value, false),
        job: Job::Extract(pointers(&env, pointer_list)?),
        limits,
    };
    Ok(JsonOut(task.run_guarded()))
}

//! napi glue for the log thread (src/core/error_log): `new ErrorLog(options)` starts it;
//! `entryWriter().writeError(…fields)` queues a handled error's entry and `writeLines(file, text)` lines
//! the JS logger formatted, both without waiting (false: the queue was full and the entry
//! was dropped, or the log was closed); `flush()` waits until what was accepted is on disk.
//! lib/logging/nativeSink.js is the JS side.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;

use napi::bindgen_prelude::Object;
use napi::{sys, Env, Result};
use napi_derive::napi;
use serde::Deserialize;

use super::raw::{self, raw_method};
use super::{errors, options};
use crate::core::error_log::file::FileSpec;
use crate::core::error_log::frames::FramesMemo;
use crate::core::error_log::line::{Constants, ErrorEntry, Field};
use crate::core::error_log::{Config, Job, LogThread};

const E_OPTION: &str = "ERR_QERRORS_INVALID_OPTION";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorLogOptions {
    /// The log directory (absolute).
    dir: String,
    /// File 0 of `writeLines`: takes handled errors at `error` level only (not warnings).
    error_file: String,
    /// File 1 of `writeLines`: takes every entry.
    combined_file: String,
    max_size: options::Int<0, 9_007_199_254_740_991>,
    max_files: options::Int<1, 1000>,
    queue: options::Int<1, 10_000_000>,
    #[serde(default)]
    environment: Option<String>,
    hostname: String,
    pid: options::Int<0, 4_294_967_295>,
    service: String,
    version: String,
}

/// Counters of the log thread.
#[napi(object)]
pub struct ErrorLogStats {
    pub accepted: f64,
    pub written: f64,
    pub dropped: f64,
    pub failed: f64,
}

/// The log thread and its bounded queue.
#[napi]
pub struct ErrorLog {
    thread: Arc<LogThread>,
}

#[napi]
impl ErrorLog {
    #[napi(constructor)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "ErrorLogOptions")] options: Object<'_>,
    ) -> Result<Self> {
        let o: ErrorLogOptions = options::read(&env, &options, E_OPTION, "options")?;
        let dir = PathBuf::from(o.dir);
        let files = [(o.error_file, true), (o.combined_file, false)]
            .into_iter()
            .map(|(file_name, errors_only)| FileSpec {
                dir: dir.clone(),
                file_name,
                max_size: o.max_size.0,
                max_files: o.max_files.0 as u32,
                errors_only,
            })
            .collect();
        let config = Config {
            constants: Constants {
                environment: o.environment,
                hostname: o.hostname,
                pid: o.pid.0 as u32,
                service: o.service,
                version: o.version,
            },
            files,
            queue: o.queue.0 as usize,
        };
        // The first failure of a file, worded as the JS logger reports its own.
        let report = Box::new(|msg: &str| eprintln!("qerrors: log transport failed: {msg}"));
        match LogThread::start(config, report) {
            Ok(thread) => Ok(ErrorLog {
                thread: Arc::new(thread),
            }),
            Err(e) => errors::error(
                &env,
                "ERR_QERRORS_INTERNAL",
                &format!("cannot start the log thread: {e}"),
            ),
        }
    }

    /// An object whose `writeError(…fields)` queues a handled error's entry: false when it
    /// was dropped (queue full or closed). The fields are an entry's
    /// (src/core/error_log/entry.rs), in the order of `ErrorEntryWriter.writeError` in
    /// binding.header.d.ts, as arguments (reading them from an object cost 4-5 µs a call).
    /// A raw method (src/binding/raw.rs): napi-rs's conversion of 18 arguments cost ~0.8 µs
    /// more per call. The stack may be `true`: the one the last redacting intake on this
    /// thread kept (see `keep_stack`); the message may be `true`: `<name>: <message>` of the
    /// entry's own fields.
    #[napi(ts_return_type = "ErrorEntryWriter")]
    pub fn entry_writer<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let obj = Object::new(env)?;
        raw::bind_methods(env, &obj, &self.thread, &[("writeError", write_error)])?;
        Ok(obj)
    }

    /// Queues formatted lines (joined by the end of line) for file `file`; false when dropped.
    #[napi]
    pub fn write_lines(&self, file: u32, text: String) -> bool {
        self.thread
            .submit(Job::Lines {
                file: file as usize,
                text,
            })
            .is_ok()
    }

    /// Waits until every entry accepted so far is written to its file.
    #[napi]
    pub fn flush(&self) {
        self.thread.flush();
    }

    /// Writes what was accepted and ends the thread; later entries are dropped.
    #[napi]
    pub fn close(&self) {
        self.thread.close();
    }

    #[napi]
    pub fn stats(&self) -> ErrorLogStats {
        use std::sync::atomic::Ordering::Relaxed;
        let c = &self.thread.counters;
        ErrorLogStats {
            accepted: c.accepted.load(Relaxed) as f64,
            written: c.written.load(Relaxed) as f64,
            dropped: c.dropped.load(Relaxed) as f64,
            failed: c.failed.load(Relaxed) as f64,
        }
    }
}

/// Sets a string argument's field; a field that is not a string is left absent (`undefined`
/// for an absent optional field). Most fields are short: read through a stack buffer, one
/// N-API call instead of two (the length, then the text).
unsafe fn set_field(env: sys::napi_env, v: sys::napi_value, e: &mut ErrorEntry, f: Field) {
    let mut buf = [0u8; 256];
    match raw::read_str(env, v, &mut buf) {
        // N-API writes valid UTF-8 (lone surrogates become U+FFFD).
        raw::StrRead::Ok(b) => e.set(f, &String::from_utf8_lossy(b)),
        raw::StrRead::TooLong(_) => {
            if let Some(s) = raw::read_string(env, v) {
                e.set(f, &s);
            }
        }
        raw::StrRead::NotString => {}
    }
}

/// Sets a required string field (lib/logging/logThread.js checks the types before the
/// call): empty when it is not a string.
unsafe fn set_text(env: sys::napi_env, v: sys::napi_value, e: &mut ErrorEntry, f: Field) {
    set_field(env, v, e, f);
    if e.get(f).is_none() {
        e.set(f, "");
    }
}

unsafe fn boolean(env: sys::napi_env, v: sys::napi_value) -> bool {
    let mut out = false;
    sys::napi_get_value_bool(env, v, &mut out);
    out
}

thread_local! {
    /// The stack the last redacting intake on this thread (src/binding/ai.rs `submit`)
    /// redacted, and whether it is still to be taken: a log entry given `true` for its
    /// stack takes it from here instead of reading the same text from JS again
    /// (lib/native/keptStack.js says when it may). The buffer is reused: stacks are longer
    /// than the allocator's per-thread cache serves.
    static KEPT_STACK: RefCell<(bool, String)> = const { RefCell::new((false, String::new())) };
    /// The escaped frames of the stacks this thread's entries repeat.
    static FRAMES: RefCell<FramesMemo> = RefCell::new(FramesMemo::new());
}

/// Sets the entry's stack through this thread's frames memo.
fn set_stack_text(e: &mut ErrorEntry, stack: &str) {
    FRAMES.with(|m| match m.try_borrow_mut() {
        Ok(mut memo) => e.set_stack(stack, &mut memo),
        Err(_) => e.set(Field::Stack, stack),
    });
}

/// Keeps the stack a redacting intake read and redacted, replacing the one kept before.
pub(super) fn keep_stack(stack: &str) {
    KEPT_STACK.with(|k| {
        let mut k = k.borrow_mut();
        k.1.clear();
        k.1.push_str(stack);
        k.0 = true;
    });
}

/// Sets the stack: `true` for the kept one, else a string or nothing.
unsafe fn set_stack(env: sys::napi_env, v: sys::napi_value, e: &mut ErrorEntry) {
    let mut kept = false;
    if sys::napi_get_value_bool(env, v, &mut kept) == sys::Status::napi_ok {
        if kept {
            KEPT_STACK.with(|k| {
                let mut k = k.borrow_mut();
                if k.0 {
                    k.0 = false;
                    set_stack_text(e, &k.1);
                }
            });
        }
        return;
    }
    if let Some(stack) = raw::read_string(env, v) {
        set_stack_text(e, &stack);
    }
}

raw_method!(write_error, 18, |env, a, thread: &LogThread| {
    let v = &a.argv;
    let mut e = thread.entry();
    sys::napi_get_value_int64(env, v[10], &mut e.status);
    e.warn = boolean(env, v[0]);
    e.is_operational = boolean(env, v[5]);
    set_text(env, v[1], &mut e, Field::ContextJson);
    set_field(env, v[2], &mut e, Field::Code);
    set_field(env, v[3], &mut e, Field::Fingerprint);
    set_text(env, v[4], &mut e, Field::Id);
    set_text(env, v[6], &mut e, Field::ErrorMessage);
    set_text(env, v[7], &mut e, Field::Name);
    set_text(env, v[8], &mut e, Field::Severity);
    set_stack(env, v[9], &mut e);
    set_text(env, v[11], &mut e, Field::UniqueErrorName);
    set_text(env, v[12], &mut e, Field::MemoryJson);
    // `true`: no custom pattern changed the message, which is `<name>: <message>`.
    if boolean(env, v[13]) {
        e.set_message_from_fields();
    } else {
        set_text(env, v[13], &mut e, Field::Message);
    }
    set_field(env, v[14], &mut e, Field::Method);
    set_field(env, v[15], &mut e, Field::RequestId);
    set_text(env, v[16], &mut e, Field::Timestamp);
    set_field(env, v[17], &mut e, Field::Url);
    raw::bool_value(env, thread.submit(Job::Error(e)).is_ok())
});

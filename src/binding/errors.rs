//! Errors that cross into JS as real `TypeError`/`RangeError`/`Error` objects with a `code`.
//!
//! napi-rs turns an `Err` into a plain `Error` whose `code` is the status name. For the
//! typed errors our API promises, these helpers throw the exact JS error first and
//! return an `Err` tagged `PendingException`, which napi-rs then leaves as thrown.

use napi::{Env, Error, Result, Status};

/// Throws `TypeError(msg)` with `code` and returns the `Err` to propagate.
pub fn type_error<T>(env: &Env, code: &str, msg: &str) -> Result<T> {
    env.throw_type_error(msg, Some(code))?;
    Err(Error::new(Status::PendingException, msg.to_owned()))
}

/// Throws `RangeError(msg)` with `code` and returns the `Err` to propagate.
pub fn range_error<T>(env: &Env, code: &str, msg: &str) -> Result<T> {
    env.throw_range_error(msg, Some(code))?;
    Err(Error::new(Status::PendingException, msg.to_owned()))
}

/// Throws `Error(msg)` with `code` and returns the `Err` to propagate.
pub fn error<T>(env: &Env, code: &str, msg: &str) -> Result<T> {
    env.throw_error(msg, Some(code))?;
    Err(Error::new(Status::PendingException, msg.to_owned()))
}

/// An `Error` with `code` for places with no `Env` (async results): napi-rs sets the
/// JS error's `code` property to the status string.
pub fn coded(code: &str, msg: impl Into<String>) -> Error<String> {
    Error::new(code.to_owned(), msg.into())
}

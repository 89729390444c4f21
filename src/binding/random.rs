//! `fillRandom(bytes)`: random bytes from the operating system for the ids qerrors gives
//! every handled error (`lib/handler/randomId.js`). The addon is loaded by the first error anyway;
//! `node:crypto` is not, and loading it cost that first error 3-7 ms.

use napi::bindgen_prelude::Uint8Array;
use napi::{Env, Result};
use napi_derive::napi;

use super::errors;

/// Fills `bytes` with random bytes from the operating system's generator.
#[napi]
pub fn fill_random(env: Env, mut bytes: Uint8Array) -> Result<()> {
    // SAFETY: the view is used only during this call, while no JS runs.
    let target = unsafe { bytes.as_mut() };
    match getrandom::getrandom(target) {
        Ok(()) => Ok(()),
        Err(e) => errors::error(
            &env,
            "ERR_QERRORS_RANDOM",
            &format!("the operating system gave no random bytes: {e}"),
        ),
    }
}

//! Build identity, used by the loader to check that JS and native halves match.

use napi_derive::napi;

/// Version of the native addon; `lib/native/loader.js` compares it with package.json.
#[napi]
pub fn native_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

//! Which rule fits an error, from its name, code and message; the first match wins, so
//! specific rules come before general ones.

use super::rules::*;

pub(super) fn pick(name: &str, code: &str, message: &str) -> &'static Rule {
    let has = |s: &str| code == s || message.contains(s);
    let lower = message.to_ascii_lowercase();
    if has("ECONNREFUSED") {
        &ECONNREFUSED
    } else if has("ENOTFOUND") || has("EAI_AGAIN") {
        &ENOTFOUND
    } else if has("EADDRINUSE") {
        &EADDRINUSE
    } else if has("ENOENT") {
        &ENOENT
    } else if has("EACCES") || has("EPERM") {
        &EACCES
    } else if has("ETIMEDOUT") || has("ESOCKETTIMEDOUT") {
        &ETIMEDOUT
    } else if has("ECONNRESET") || lower.contains("socket hang up") {
        &ECONNRESET
    } else if has("EPIPE") {
        &EPIPE
    } else if has("EMFILE") || has("ENFILE") {
        &EMFILE
    } else if has("MODULE_NOT_FOUND") || message.starts_with("Cannot find module") {
        &MODULE_NOT_FOUND
    } else if has("ERR_REQUIRE_ESM") {
        &REQUIRE_ESM
    } else if code.starts_with("CERT_")
        || code.contains("SELF_SIGNED_CERT")
        || code == "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
        || code == "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
        || code == "ERR_TLS_CERT_ALTNAME_INVALID"
        || lower.contains("self-signed certificate")
        || lower.contains("unable to verify the first certificate")
    {
        &TLS_CERT
    } else if message.contains("E11000") || lower.contains("duplicate key") {
        &DUPLICATE_KEY
    } else if name == "TokenExpiredError" || name == "JsonWebTokenError" || name == "NotBeforeError"
    {
        &JWT
    } else if name == "PayloadTooLargeError" || lower.contains("request entity too large") {
        &PAYLOAD_TOO_LARGE
    } else if has("ERR_INVALID_ARG_TYPE") {
        &INVALID_ARG_TYPE
    } else if code == "EOPENBREAKER" || message == "Breaker is open" {
        &BREAKER_OPEN
    } else if code == "VALIDATION_ERROR" || name == "ValidationError" {
        &VALIDATION
    } else if code == "NOT_FOUND"
        || code == "ROUTE_NOT_FOUND"
        || name == "NotFoundError"
        || message.starts_with("No route for ")
    {
        &NOT_FOUND
    } else if has("ERR_HTTP_HEADERS_SENT") || lower.contains("headers after they are sent") {
        &HEADERS_SENT
    } else if lower.contains("heap out of memory") || lower.contains("allocation failed") {
        &OUT_OF_MEMORY
    } else if lower.contains("maximum call stack") {
        &STACK_OVERFLOW
    } else if code == "ERR_UNHANDLED_REJECTION"
        || name.contains("UnhandledPromiseRejection")
        || lower.contains("unhandled promise rejection")
        || lower.contains("unhandled rejection")
    {
        &UNHANDLED_REJECTION
    } else if lower.contains("cannot read propert")
        && (lower.contains("undefined") || lower.contains("null"))
        || (lower.contains("undefined is not an object") || lower.contains("null is not an object"))
        || lower.contains("cannot set propert")
            && (lower.contains("undefined") || lower.contains("null"))
    {
        &PROPERTY_OF_NOTHING
    } else if lower.contains("is not a function") {
        &NOT_A_FUNCTION
    } else if name == "SyntaxError"
        && (lower.contains("json")
            || lower.contains("unexpected token")
            || lower.contains("unexpected end"))
    {
        &JSON_SYNTAX
    } else {
        &GENERIC
    }
}

#[cfg(test)]
mod tests {
    use super::super::advise;

    fn category(name: &str, code: &str, message: &str) -> String {
        advise(name, code, message)["category"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn recognises_common_node_errors() {
        let cases = [
            (
                "Error",
                "ECONNREFUSED",
                "connect ECONNREFUSED 127.0.0.1:5432",
                "ECONNREFUSED",
            ),
            (
                "Error",
                "",
                "getaddrinfo ENOTFOUND db.internal",
                "ENOTFOUND",
            ),
            (
                "Error",
                "EADDRINUSE",
                "listen EADDRINUSE: address already in use :::3000",
                "EADDRINUSE",
            ),
            (
                "Error",
                "ENOENT",
                "ENOENT: no such file or directory, open 'config.json'",
                "ENOENT",
            ),
            (
                "Error",
                "EACCES",
                "listen EACCES: permission denied 0.0.0.0:80",
                "EACCES",
            ),
            (
                "Error",
                "ETIMEDOUT",
                "connect ETIMEDOUT 10.0.0.1:443",
                "ETIMEDOUT",
            ),
            ("Error", "ECONNRESET", "socket hang up", "ECONNRESET"),
            ("Error", "EPIPE", "write EPIPE", "EPIPE"),
            (
                "Error",
                "EMFILE",
                "EMFILE: too many open files, open 'a.txt'",
                "EMFILE",
            ),
            (
                "TypeError",
                "",
                "Cannot read properties of undefined (reading 'id')",
                "TypeError: property of undefined/null",
            ),
            (
                "TypeError",
                "",
                "Cannot read property 'x' of null",
                "TypeError: property of undefined/null",
            ),
            (
                "TypeError",
                "",
                "user.save is not a function",
                "TypeError: not a function",
            ),
            (
                "SyntaxError",
                "",
                "Unexpected token < in JSON at position 0",
                "SyntaxError: invalid JSON",
            ),
            (
                "SyntaxError",
                "",
                "Unexpected end of JSON input",
                "SyntaxError: invalid JSON",
            ),
            (
                "RangeError",
                "",
                "Maximum call stack size exceeded",
                "RangeError: maximum call stack",
            ),
            (
                "Error",
                "",
                "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
                "heap out of memory",
            ),
            (
                "UnhandledPromiseRejection",
                "ERR_UNHANDLED_REJECTION",
                "This error originated either by throwing inside of an async function",
                "unhandled rejection",
            ),
            (
                "Error",
                "ERR_HTTP_HEADERS_SENT",
                "Cannot set headers after they are sent to the client",
                "ERR_HTTP_HEADERS_SENT",
            ),
            ("Error", "", "socket hang up", "ECONNRESET"),
            (
                "Error",
                "MODULE_NOT_FOUND",
                "Cannot find module 'pg'",
                "MODULE_NOT_FOUND",
            ),
            (
                "Error",
                "ERR_REQUIRE_ESM",
                "require() of ES Module /app/node_modules/x/index.js not supported",
                "ERR_REQUIRE_ESM",
            ),
            (
                "Error",
                "SELF_SIGNED_CERT_IN_CHAIN",
                "self-signed certificate in certificate chain",
                "TLS certificate",
            ),
            (
                "Error",
                "CERT_HAS_EXPIRED",
                "certificate has expired",
                "TLS certificate",
            ),
            (
                "MongoServerError",
                "",
                "E11000 duplicate key error collection: app.users index: email_1",
                "duplicate key",
            ),
            ("TokenExpiredError", "", "jwt expired", "JWT"),
            (
                "PayloadTooLargeError",
                "",
                "request entity too large",
                "payload too large",
            ),
            (
                "TypeError",
                "ERR_INVALID_ARG_TYPE",
                "The \"path\" argument must be of type string. Received undefined",
                "ERR_INVALID_ARG_TYPE",
            ),
            (
                "Error",
                "EOPENBREAKER",
                "Breaker is open",
                "circuit breaker open",
            ),
            (
                "ServiceError",
                "VALIDATION_ERROR",
                "email is required",
                "validation",
            ),
            (
                "ValidationError",
                "",
                "\"qty\" must be a number",
                "validation",
            ),
            (
                "ServiceError",
                "ROUTE_NOT_FOUND",
                "No route for GET /api/v1/orders",
                "not found",
            ),
            ("NotFoundError", "", "user not found", "not found"),
            ("Error", "", "something odd happened", "generic"),
        ];
        for (name, code, msg, want) in cases {
            assert_eq!(category(name, code, msg), want, "{msg}");
        }
    }
}

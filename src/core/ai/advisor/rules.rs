//! What the offline advisor says for each kind of failure: its category, cause, advice
//! and steps. [`pick`](super::classify::pick) decides which one applies.

pub(super) struct Rule {
    pub(super) category: &'static str,
    pub(super) cause: &'static str,
    pub(super) advice: &'static str,
    pub(super) steps: &'static [&'static str],
}

// Statics, not consts: each has one address, and `advise` tells two rules apart by it
// (`std::ptr::eq`) across modules.

pub(super) static ECONNREFUSED: Rule = Rule {
    category: "ECONNREFUSED",
    cause: "Nothing is listening on the host and port this process connects to: the service (database, cache, API) is down, not started yet, or the address or port is wrong.",
    advice: "Check that the target service is running and reachable at the configured host and port, and retry the connection with backoff instead of failing at startup.",
    steps: &[
        "Verify the host and port in your configuration (env vars such as DATABASE_URL or REDIS_URL).",
        "Confirm the service is up: `nc -vz <host> <port>` or the service's own health check.",
        "In containers, use the service name instead of localhost, and wait for readiness before connecting.",
        "Add retry with exponential backoff around the initial connection.",
    ],
};

pub(super) static ENOTFOUND: Rule = Rule {
    category: "ENOTFOUND",
    cause: "DNS could not resolve the host name: it is misspelled, does not exist in this network, or DNS is unavailable.",
    advice: "Check the host name in the URL or configuration for typos and make sure it resolves from this machine or container.",
    steps: &[
        "Print the exact host the code uses and compare it with the expected one (no protocol or path in a host field).",
        "Test resolution with `getent hosts <name>` or `nslookup <name>` from the same environment.",
        "In Docker or Kubernetes, use the service name known to that network.",
        "Treat EAI_AGAIN as a temporary DNS failure and retry it.",
    ],
};

pub(super) static EADDRINUSE: Rule = Rule {
    category: "EADDRINUSE",
    cause: "Another process (often a previous instance of this server) is already listening on the port.",
    advice: "Stop the other process or choose another port (for example through PORT), and make sure the server only calls listen() once.",
    steps: &[
        "Find the owner: `lsof -i :<port>` or `ss -ltnp`.",
        "Stop a stale instance or a watcher that restarted without closing the old server.",
        "Read the port from configuration; in tests listen on port 0 to get a free one.",
        "Close the server on shutdown (server.close()) so restarts can bind again.",
    ],
};

pub(super) static ENOENT: Rule = Rule {
    category: "ENOENT",
    cause: "A file or directory the code opens does not exist at that path, usually because of a relative path resolved against an unexpected working directory.",
    advice: "Build the path from __dirname (or import.meta.url) instead of the working directory, and create or check the file before using it.",
    steps: &[
        "Log the absolute path being opened (path.resolve) and compare it with where the file really is.",
        "Use path.join(__dirname, ...) for files shipped with the code.",
        "Create directories with fs.mkdirSync(dir, { recursive: true }) before writing into them.",
        "If the file is optional, handle err.code === 'ENOENT' explicitly.",
    ],
};

pub(super) static EACCES: Rule = Rule {
    category: "EACCES",
    cause: "The process lacks permission for the file, directory or port it uses (ports below 1024 need privileges).",
    advice: "Fix the ownership or mode of the path for the user the process runs as, or use a port above 1024 behind a proxy.",
    steps: &[
        "Check which user runs the process (`id`) and the path's owner and mode (`ls -l`).",
        "Write to a directory the process owns (for example a data volume), not the code directory.",
        "Bind to a port above 1024 and put a reverse proxy or port mapping in front.",
        "Avoid running Node as root to work around it.",
    ],
};

pub(super) static ETIMEDOUT: Rule = Rule {
    category: "ETIMEDOUT",
    cause: "A connection or request to a remote service took longer than the allowed time: the service is slow or overloaded, or a firewall drops the packets.",
    advice: "Set explicit connect and request timeouts, retry idempotent calls with backoff, and check network reachability of the remote host.",
    steps: &[
        "Check that the host and port are reachable from this network (security groups, firewalls, VPN).",
        "Measure the remote service's latency; raise the timeout only if the service is legitimately slow.",
        "Retry idempotent requests with exponential backoff and jitter, and add a circuit breaker.",
        "Reuse connections with a keep-alive agent to avoid repeated connection setup.",
    ],
};

pub(super) static ECONNRESET: Rule = Rule {
    category: "ECONNRESET",
    cause: "The remote side closed the connection abruptly, typically an idle keep-alive socket closed by the server or a proxy, or a crash on the other side.",
    advice: "Retry idempotent requests once on ECONNRESET and keep the client's keep-alive idle timeout shorter than the server's.",
    steps: &[
        "Set the HTTP agent's keep-alive timeout below the server or load balancer idle timeout.",
        "Retry idempotent requests (GET, PUT with the same body) after a reset.",
        "Check the remote service's logs for crashes or request size limits at the time of the reset.",
        "Handle 'error' events on sockets and streams so a reset does not crash the process.",
    ],
};

pub(super) static EPIPE: Rule = Rule {
    category: "EPIPE",
    cause: "The code wrote to a socket, pipe or stream whose other end was already closed, such as a client that disconnected or a child process that exited.",
    advice: "Stop writing once the peer has closed: listen for 'close' and 'error' on the stream and check writable before writing.",
    steps: &[
        "Attach an 'error' handler to the stream or socket so EPIPE does not crash the process.",
        "Stop work for a request when req/res emits 'close' (client went away).",
        "Use stream.pipeline() which tears down both sides correctly.",
        "For child processes, check that the child is still running before writing to stdin.",
    ],
};

pub(super) static EMFILE: Rule = Rule {
    category: "EMFILE",
    cause: "The process has reached its limit of open file descriptors: files or sockets are opened faster than they are closed, or leaked.",
    advice: "Limit concurrency of file and socket operations and make sure every handle is closed; raise `ulimit -n` only after fixing leaks.",
    steps: &[
        "Count open descriptors (`ls /proc/<pid>/fd | wc -l`) and look for growth over time.",
        "Close file handles in finally blocks and destroy unused sockets and streams.",
        "Limit parallel work (a queue or p-limit style limiter) instead of Promise.all over thousands of files.",
        "Reuse HTTP connections with a keep-alive agent and a maxSockets limit.",
    ],
};

pub(super) static PROPERTY_OF_NOTHING: Rule = Rule {
    category: "TypeError: property of undefined/null",
    cause: "The code reads a property from a value that is undefined or null: a missing field in input data, an async result used before it arrived, or a wrong variable.",
    advice: "Check where the object comes from and guard it: validate input, await async results, and use optional chaining (obj?.prop) only where absence is legitimate.",
    steps: &[
        "Find the object in the first stack frame of your code and log its value just before the access.",
        "Validate request bodies and external data before using nested fields.",
        "Make sure promises are awaited before their results are used.",
        "Return a clear 4xx error for missing input instead of letting a TypeError escape.",
    ],
};

pub(super) static NOT_A_FUNCTION: Rule = Rule {
    category: "TypeError: not a function",
    cause: "The code calls something that is not a function: a misspelled method, a wrong import (default vs named export, CommonJS vs ESM), or an object that is not what the code expects.",
    advice: "Check how the value is imported and what it really is (console.log(typeof x)); fix default vs named import mismatches and method names.",
    steps: &[
        "Log typeof of the called value and of its parent object.",
        "Compare require()/import usage with the module's actual exports (default vs named).",
        "Check the installed version of the library: the method may have been renamed or removed.",
        "Look for circular requires that leave an export undefined at call time.",
    ],
};

pub(super) static JSON_SYNTAX: Rule = Rule {
    category: "SyntaxError: invalid JSON",
    cause: "JSON.parse received text that is not valid JSON, often an HTML error page, an empty body, or a value that is already an object.",
    advice: "Check the response status and content-type before parsing, and wrap JSON.parse in try/catch with a clear error for bad input.",
    steps: &[
        "Log the first characters of the text being parsed ('<' means an HTML page, empty means no body).",
        "Check the HTTP status and content-type before calling .json() or JSON.parse.",
        "Do not parse values that are already objects (for example a body parsed by middleware).",
        "Return 400 for malformed client JSON instead of a 500.",
    ],
};

pub(super) static STACK_OVERFLOW: Rule = Rule {
    category: "RangeError: maximum call stack",
    cause: "Unbounded recursion: a function calls itself (directly or through others) without reaching a base case, or a setter/getter or event handler re-triggers itself.",
    advice: "Find the repeating frames in the stack and add or fix the recursion's base case; turn deep recursion over data into an iterative loop.",
    steps: &[
        "Look at the repeated function names in the stack to find the cycle.",
        "Check setters, toJSON methods and event handlers that trigger themselves.",
        "Convert recursion over large or cyclic data into iteration with an explicit stack and a visited set.",
        "For cyclic objects, use a circular-safe serializer.",
    ],
};

pub(super) static OUT_OF_MEMORY: Rule = Rule {
    category: "heap out of memory",
    cause: "The V8 heap reached its limit: a memory leak (growing caches, listeners, closures) or a workload that loads too much data at once.",
    advice: "Find what grows with a heap snapshot, bound caches and queues, and stream large data instead of loading it whole; raise --max-old-space-size only for legitimate needs.",
    steps: &[
        "Take heap snapshots a few minutes apart (node --inspect or --heapsnapshot-near-heap-limit) and compare retained objects.",
        "Bound every cache and queue (size and TTL) and remove event listeners you add.",
        "Stream large files and query results instead of buffering them.",
        "Set --max-old-space-size to fit the container memory limit.",
    ],
};

pub(super) static UNHANDLED_REJECTION: Rule = Rule {
    category: "unhandled rejection",
    cause: "A promise rejected and nothing handled it: a missing await, a missing .catch(), or an async function called without handling its result.",
    advice: "Await every promise (or attach .catch) where it is created, and wrap async route handlers so rejections reach the error handler.",
    steps: &[
        "Find the async call in the stack and make sure its promise is awaited or caught.",
        "Wrap async Express handlers (or use Express 5) so rejections go to next(err).",
        "Enable the no-floating-promises lint rule to catch this at build time.",
        "Keep a process 'unhandledRejection' handler for logging, not as the fix.",
    ],
};

pub(super) static HEADERS_SENT: Rule = Rule {
    category: "ERR_HTTP_HEADERS_SENT",
    cause: "The handler sends a response twice: res.send/json/redirect after a response was already sent, often a missing return after an early response or next() called after responding.",
    advice: "Return right after sending a response, and check res.headersSent in error handlers before writing (delegate to next(err) when already sent).",
    steps: &[
        "Add `return` before early res.status(...).json(...) calls.",
        "Make sure a callback or promise chain cannot respond a second time.",
        "Do not call next() after sending a response.",
        "In error middleware, if res.headersSent, call next(err) instead of responding.",
    ],
};

pub(super) static MODULE_NOT_FOUND: Rule = Rule {
    category: "MODULE_NOT_FOUND",
    cause: "require() or import could not resolve a module: the package is not installed in this environment (a devDependency in production, a missing npm install), or a relative path or file extension is wrong.",
    advice: "Install the package as a regular dependency (or fix the relative path and extension), and make sure the deployment runs npm ci with the same lockfile.",
    steps: &[
        "Check whether the name is a package (npm ls <name>) or a relative path (./ or ../) resolved from the requiring file.",
        "Move packages needed at runtime from devDependencies to dependencies.",
        "Rebuild the deployment image with npm ci so node_modules matches package-lock.json.",
        "For ESM imports, include the file extension (./util.js) and check the package's exports map.",
    ],
};

pub(super) static REQUIRE_ESM: Rule = Rule {
    category: "ERR_REQUIRE_ESM",
    cause: "A CommonJS require() loads a package that is published only as an ES module (a newer major version of the dependency).",
    advice: "Load the package with a dynamic import() from CommonJS, switch the caller to ESM, or pin the last CommonJS major version of the dependency.",
    steps: &[
        "Check the dependency's changelog: the major version that went ESM-only.",
        "Replace require('pkg') with `const pkg = await import('pkg')` inside an async function.",
        "Or pin the previous major version in package.json.",
        "On Node 22+, require(esm) may work without a flag; align the Node version with production.",
    ],
};

pub(super) static TLS_CERT: Rule = Rule {
    category: "TLS certificate",
    cause: "The TLS certificate of the server could not be verified: it is self-signed or issued by a private CA, expired, or issued for another host name.",
    advice: "Give Node the issuing CA (NODE_EXTRA_CA_CERTS or the ca option) or fix the server's certificate; never disable verification with NODE_TLS_REJECT_UNAUTHORIZED=0 in production.",
    steps: &[
        "Inspect the chain: `openssl s_client -connect <host>:443 -servername <host>`.",
        "For a corporate proxy or private CA, point NODE_EXTRA_CA_CERTS at the CA bundle.",
        "Renew an expired certificate, and make sure the server sends the intermediate certificates.",
        "Connect with the host name the certificate was issued for, not an IP address.",
    ],
};

pub(super) static DUPLICATE_KEY: Rule = Rule {
    category: "duplicate key",
    cause: "An insert or update violates a unique index or constraint (MongoDB E11000, SQL unique violation): the record already exists, often from a retried or concurrent request.",
    advice: "Treat the duplicate as a conflict: return 409 to the client, or use an upsert / ON CONFLICT clause when the operation should be idempotent.",
    steps: &[
        "Identify the unique index or constraint named in the message.",
        "Return HTTP 409 with a clear message instead of a 500.",
        "Make retried requests idempotent (upsert, ON CONFLICT DO NOTHING/UPDATE, idempotency keys).",
        "Check for concurrent requests creating the same record (double submits).",
    ],
};

pub(super) static JWT: Rule = Rule {
    category: "JWT",
    cause: "A JSON Web Token was rejected: it expired, its signature does not match the secret or key, or it is malformed.",
    advice: "Answer 401 and let the client refresh or re-authenticate; check that issuer and verifier use the same secret or key pair and that clocks are in sync.",
    steps: &[
        "Return 401 (not 500) for TokenExpiredError and JsonWebTokenError.",
        "Verify that JWT_SECRET or the public key is identical in every service and environment.",
        "Allow a small clock tolerance (clockTolerance) if servers' clocks drift.",
        "Implement token refresh before expiry on the client.",
    ],
};

pub(super) static PAYLOAD_TOO_LARGE: Rule = Rule {
    category: "payload too large",
    cause: "The request body is larger than the body parser's limit (express.json() defaults to 100 kB).",
    advice: "Raise the limit only on the routes that need it (express.json({ limit: '1mb' })) and stream large uploads instead of parsing them into memory.",
    steps: &[
        "Check the size the client sends and the limit configured in the body parser.",
        "Set a route-specific limit rather than a global large one.",
        "Use multipart streaming (busboy, multer) or direct-to-storage uploads for files.",
        "Return 413 with the allowed size so clients can adapt.",
    ],
};

pub(super) static INVALID_ARG_TYPE: Rule = Rule {
    category: "ERR_INVALID_ARG_TYPE",
    cause: "A Node.js API received an argument of the wrong type, typically undefined where a string, Buffer or number was expected (a missing env var or config value).",
    advice: "Find the value passed to the Node API in the stack and validate it before the call; a missing environment variable is the most common source.",
    steps: &[
        "Read which argument and which type the message names.",
        "Log the value passed at the first frame of your code in the stack.",
        "Validate configuration (env vars) at startup and fail fast with a clear message.",
        "Convert values explicitly (String(x), Buffer.from(x)) where the type can vary.",
    ],
};

pub(super) static BREAKER_OPEN: Rule = Rule {
    category: "circuit breaker open",
    cause: "A circuit breaker refused the call without trying it: the dependency behind it failed repeatedly and the breaker is open until its reset timeout passes.",
    advice: "Treat this as the dependency being down: answer 503 with Retry-After or serve a fallback, and look at the failures that opened the breaker, not at this error.",
    steps: &[
        "Find the earlier errors of the same dependency (ECONNREFUSED, timeouts, 5xx): they opened the breaker.",
        "Give the breaker a fallback (cached data, a degraded answer) so callers are not failed outright.",
        "Answer 503 with a Retry-After close to the breaker's reset timeout.",
        "Check the breaker's stats for the failure rate and when it last changed state.",
    ],
};

pub(super) static VALIDATION: Rule = Rule {
    category: "validation",
    cause: "The request or input failed validation: a required field is missing or a value has the wrong type, format or range. This is the client's error, not a server fault.",
    advice: "Answer 400 with the fields that failed and why, validate at the edge (route or schema) before any work, and keep these errors out of the error-rate alerts.",
    steps: &[
        "Return 400 with a list of { field, message } so the client can correct the input.",
        "Validate with a schema (JSON Schema, zod, joi) at the route, before side effects.",
        "If a well-behaved client sends this, check for an API version or contract mismatch.",
        "Log validation failures at a lower severity than server errors.",
    ],
};

pub(super) static NOT_FOUND: Rule = Rule {
    category: "not found",
    cause: "The requested route or resource does not exist: a wrong URL or method, a stale link, or an id that was deleted or never existed.",
    advice: "Answer 404 without a stack trace; if the path should exist, compare the method and path with the registered routes and the client's base URL.",
    steps: &[
        "Check the method and path against the router (a GET route does not answer POST).",
        "Look for a missing prefix or version segment (/api, /v1) between client and server.",
        "For ids, confirm the record exists and the caller may see it.",
        "Keep 404s out of the server-error alerts; watch their rate per path instead.",
    ],
};

pub(super) static GENERIC: Rule = Rule {
    category: "generic",
    cause: "The error does not match a known pattern; the message and the first stack frame in your own code are the best starting point.",
    advice: "Start at the first stack frame in your own code, log the inputs that reach it, and reproduce the failure in a test before changing code.",
    steps: &[
        "Read the error name, message and code; search the library's docs for the code.",
        "Open the first frame of the stack that belongs to your code and inspect the values there.",
        "Reproduce the failure with the same input in a unit test.",
        "Add context (ids, route, input size) to the log entry so the next occurrence is easier to diagnose.",
    ],
};

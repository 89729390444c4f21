import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const native = require('./native.js');

export default native;
export const { nativeVersion } = native;
// circuit breaker
export const { CircuitBreaker, CircuitBreakerFakeClock, createCircuitBreakerHandle } = native;

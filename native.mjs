import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const native = require('./native.js');

export default native;
export const { nativeVersion } = native;
// Redis-backed distributed rate limiting (docs/redis.md).
export const { redisStore, RedisStore } = native;

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const native = require('./native.js');

export default native;
export const { nativeVersion } = native;
// json (async JSON: parse, extract, stringify)
export const { json } = native;

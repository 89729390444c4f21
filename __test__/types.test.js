'use strict';

// The documentation compiles: every JavaScript and TypeScript snippet of README.md and docs/,
// extracted from the markdown and kept verbatim, is type-checked with `tsc --strict` inside a
// real Express app, once with @types/express 5 and once with @types/express 4 (installed as
// the `@types/express4` alias). JavaScript snippets are checked as JavaScript (`checkJs`), so
// `require('qerrors')` is typed by index.d.ts exactly as a user's editor types it. Snippets
// are fragments: each is wrapped in an async function of its own, and the names they take for
// granted (`app`, `req`, `err`, …) are declared below with their real types.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..');

/** `{ file, index, lang, code }` for every ```js/```ts block of README.md and docs/*.md. */
function snippets() {
  const files = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const out = [];
  for (const file of files) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const fence = /^```(js|javascript|ts|typescript)\n([\s\S]*?)^```$/gm;
    let m;
    let index = 0;
    while ((m = fence.exec(text)) !== null) out.push({ file, index: index++, lang: m[1].startsWith('t') ? 'ts' : 'js', code: m[2] });
  }
  return out;
}

// The names the snippets take for granted, with the types a service has for them.
const GLOBALS = `
import type * as express from 'express';
declare global {
  const app: express.Express;
  const req: express.Request;
  const res: express.Response;
  const next: express.NextFunction;
  const err: Error;
  const breaker: import('qerrors').CircuitBreaker;
  const paymentsBreaker: import('qerrors').CircuitBreaker;
  const myRegistry: { registerMetric(metric: any): void };
  const redisStore: typeof import('qerrors/native').redisStore;
  const url: string;
  const userId: string;
  const apiKey: string;
  const id: string;
  const sql: string;
  const order: { id: string };
  const profile: { name: string };
  const body: Buffer;
  const value: unknown;
  const card: string;
  const user: { id: string };
  const db: { query(sql: string): Promise<unknown> };
  function callPaymentApi(order: { id: string }): Promise<{ receipt: string }>;
  function op(): Promise<void>;
  function callApi(): Promise<unknown>;
  function fetchUser(id: string): Promise<{ id: string }>;
  function charge(card: string): Promise<unknown>;
  function log(...args: unknown[]): void;
  function forward(advice: unknown): void;
  class SomeRedisStore {
    increment(key: string): Promise<{ totalHits: number; resetTime: Date | undefined }>;
    decrement(key: string): Promise<void>;
    resetKey(key: string): Promise<void>;
  }
}
export {};
`;

function compile(dir, expressTypes) {
  const options = {
    strict: true,
    noEmit: true,
    allowJs: true,
    checkJs: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [path.join(root, 'node_modules', '@types')],
    baseUrl: dir,
    paths: {
      qerrors: [path.join(root, 'index.d.ts')],
      'qerrors/native': [path.join(root, 'native.d.ts')],
      express: [path.join(root, 'node_modules', '@types', expressTypes)],
      // Other packages the snippets use (express-rate-limit), from the repository's node_modules.
      '*': [path.join(root, 'node_modules', '*')],
    },
  };
  const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
  const program = ts.createProgram(files, options);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${path.basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : '';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

function writeProject(all) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-docs-ts-'));
  fs.writeFileSync(path.join(dir, 'globals.d.ts'), GLOBALS);
  for (const s of all) {
    const name = `${s.file.replace(/[/.]/g, '_')}_${s.index}.${s.lang}`;
    const header = s.lang === 'ts' ? '' : '// @ts-check\n';
    // A whole module (it has imports) stays as it is; a fragment goes in a function of its own:
    // fragments repeat names, use await and return.
    const text = /^import /m.test(s.code) ? `${s.code}export {};\n` : `export async function snippet() {\n${s.code}}\n`;
    fs.writeFileSync(path.join(dir, name), header + text);
  }
  return dir;
}

test('README.md and docs/ hold snippets to check (the README main snippet among them)', () => {
  const all = snippets();
  assert.ok(all.length >= 15, `${all.length} snippets`);
  assert.ok(all.some((s) => s.file === 'README.md' && s.code.includes('qerrors.middleware()')));
  assert.ok(all.some((s) => s.lang === 'ts'), 'at least one TypeScript snippet');
});

for (const [label, types] of [
  ['@types/express 5', 'express'],
  ['@types/express 4', 'express4'],
]) {
  test(`every snippet of README.md and docs/ compiles under tsc --strict with ${label}`, () => {
    const dir = writeProject(snippets());
    try {
      assert.deepEqual(compile(dir, types), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('the check can fail: a misuse of the middleware and a wrong option are rejected', () => {
  const dir = writeProject([
    { file: 'bad', index: 0, lang: 'ts', code: "import('qerrors').then((q) => { app.use(q.default.middleware({ exposeErrors: 'yes' })); const n: number = q.default.notFound(); void n; });\n" },
  ]);
  try {
    const errors = compile(dir, 'express');
    assert.equal(errors.length, 2, errors.join('\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

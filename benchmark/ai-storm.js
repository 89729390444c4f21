'use strict';

// End-to-end error storm through qerrors(): 10 000 errors over 20 signatures (Zipf 1.1,
// messages with varying ids, ports and paths, stacks of 10-40 frames) plus 1% unique errors,
// with a mock OpenAI-compatible provider at 200 ms latency in a child process. Each side runs
// in its own process with the same storm and environment:
//
//   ours:   this package's qerrors() (lib/handler/qerrors.js) → native AI pipeline
//   legacy: the published qerrors 1.2.7 (node_modules/qerrors-legacy), same env
//   ours, JS writer: this package with QERRORS_LOG_THREAD=false (the log files written from
//           JavaScript, as before the log thread)
//   none:   an empty async function: the harness alone (its errors, stacks and loop), the
//           floor under every side's time and memory
//   pino:   `pino().error(err)` to a file through pino.destination({ sync: false }), the
//           floor for "log an error object to a file" (no redaction, no answer, no analysis)
//
// A third process runs the same storm through aiPipeline.schedule() alone: the pipeline's
// share of the per-error cost.
//
// Reported: time per qerrors() call (awaited one after another; the mean over the storm,
// the steady cost from the median batch, and the first batch, which carries one-time
// loading), event-loop time per call (performance.eventLoopUtilization() over the storm:
// the calls and every later turn they cause, such as a writer formatting its lines),
// main-thread CPU per call (the same span, the CPU time of the event loop's thread alone:
// unlike the event-loop time it does not count the turns the thread waits for a core that
// other threads or processes hold, so it is the steadier figure on a busy machine; Linux
// only), CPU per call (all threads of the process, the log thread's remaining work
// flushed before it is read), event-loop delay max, provider calls made (ideal: one per
// distinct fingerprint), RSS and heap after the storm.
//
//   node --expose-gc benchmark/ai-storm.js [--errors 10000] [--rounds 3]

const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance, monitorEventLoopDelay } = require('node:perf_hooks');
const { rng, argOf, numberArg } = require('./support');

const root = path.resolve(__dirname, '..');
const ERRORS = numberArg('errors', 10000);
const ROUNDS = Math.max(1, numberArg('rounds', 3));
const SIGNATURES = 20;

if (process.argv.includes('--mock')) {
  const { startMock } = require('../__test__/helpers/ai-mock');
  startMock('openai').then((mock) => {
    mock.fallback = { delayMs: 200, content: JSON.stringify({ advice: 'Storm advice: check the failing dependency.', steps: ['a', 'b'] }) };
    process.stdout.write(`${mock.url}\n`);
    process.stdin.on('end', () => {
      process.stdout.write(`${mock.requests.length}\n`);
      process.exit(0);
    });
    process.stdin.resume();
  });
  return;
}

const WORDS = ['ledger', 'invoice', 'session', 'upload', 'catalog', 'payment', 'inventory', 'shipment', 'profile', 'search', 'report', 'billing', 'export', 'import', 'webhook', 'mailer', 'cache', 'queue', 'auth', 'render'];

/** An error of signature `sig` thrown `depth` frames deep, with a varying id/port/path. */
function makeError(sig, variant, unique) {
  const word = WORDS[sig];
  const message = unique
    ? `unexpected ${word} state ${unique}`
    : [
        () => `connect ECONNREFUSED 10.0.${variant % 250}.${variant % 7}:${5000 + sig}`,
        () => `Cannot read properties of undefined (reading '${word}') for request ${variant.toString(16).padStart(8, 'f')}-aaaa-4bbb-8ccc-${String(variant).padStart(12, '0')}`,
        () => `ENOENT: no such file or directory, open '/srv/data/${variant}/${word}.json'`,
        () => `${word} service answered 503 after ${variant % 900} ms for order ${100000 + variant}`,
      ][sig % 4]();
  const depth = 10 + ((sig * 7) % 31);
  const thrower = {
    [`${word}Handler`](n) {
      if (n === 0) return new (sig % 3 === 1 ? TypeError : Error)(message);
      return thrower[`${word}Handler`](n - 1);
    },
  };
  const err = thrower[`${word}Handler`](depth);
  if (sig % 4 === 0) err.code = 'ECONNREFUSED';
  return err;
}

function storm(n) {
  const r = rng(42);
  // Zipf(1.1) weights over the signatures.
  const w = Array.from({ length: SIGNATURES }, (_, i) => 1 / Math.pow(i + 1, 1.1));
  const total = w.reduce((a, b) => a + b, 0);
  const plan = [];
  let uniques = 0;
  for (let i = 0; i < n; i++) {
    if (r() < 0.01) {
      let tag = '';
      for (let k = uniques++; ; k = Math.floor(k / 26) - 1) {
        tag = String.fromCharCode(97 + (k % 26)) + tag;
        if (k < 26) break;
      }
      plan.push([i % SIGNATURES, i, `zq${tag}`]);
      continue;
    }
    let x = r() * total;
    let sig = 0;
    while (x > w[sig] && sig < SIGNATURES - 1) x -= w[sig++];
    plan.push([sig, i, '']);
  }
  return { plan, uniques };
}

/** CPU time of this process's main thread in ns (Linux schedstat), or null where unavailable. */
function mainThreadNs() {
  try {
    return Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

async function runSide(side) {
  const ai = require(path.join(root, 'lib', 'native', 'ai.js'));
  let pinoDest = null;
  let qerrors;
  if (side === 'ours' || side === 'oursJs') qerrors = require(path.join(root, 'lib', 'handler', 'qerrors.js'));
  else if (side === 'pipeline') qerrors = async (err, ctx) => ai.schedule(err, ctx);
  else if (side === 'none') qerrors = async () => {};
  else if (side === 'pino') {
    const pino = require('pino');
    fs.mkdirSync(process.env.QERRORS_LOG_DIR, { recursive: true });
    pinoDest = pino.destination({ dest: path.join(process.env.QERRORS_LOG_DIR, 'pino.log'), sync: false });
    const log = pino(pinoDest);
    qerrors = (err) => {
      log.error(err);
    };
  } else qerrors = require('qerrors-legacy').qerrors;
  const { plan } = storm(ERRORS);
  const errors = plan.map(([sig, variant, unique]) => makeError(sig, variant, unique));
  for (const e of errors) void e.stack; // format stacks before timing, on both sides
  // Warm-up outside the measured storm is not possible without polluting the cache, so the
  // storm is measured whole.
  if (global.gc) global.gc();
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  // Batches of 100 errors, then a turn of the event loop (timers, I/O, advice callbacks run),
  // as in a server; time per call counts only the time spent inside the batches.
  let busy = 0;
  const batches = [];
  const cpu0 = process.cpuUsage();
  // Event-loop time: the batches and the turns between them, where deferred work (a
  // JavaScript writer's lines, advice callbacks) runs; the final flush's wait is not in it.
  const elu0 = performance.eventLoopUtilization();
  const main0 = mainThreadNs();
  for (let b = 0; b < errors.length; b += 100) {
    const t = performance.now();
    for (let i = b; i < Math.min(b + 100, errors.length); i++) {
      await qerrors(errors[i], { route: '/storm', attempt: i % 3 });
    }
    const dt = performance.now() - t;
    busy += dt;
    batches.push(dt);
    await new Promise((r) => setImmediate(r));
  }
  // The first batch carries each side's one-time costs (loading, compiling); the median
  // batch is the steady cost of a call.
  const sortedBatches = [...batches].sort((x, y) => x - y);
  const steadyUs = (sortedBatches[sortedBatches.length >> 1] * 1000) / 100;
  const loopUs = (performance.eventLoopUtilization(elu0).active * 1000) / errors.length;
  const main1 = mainThreadNs();
  const mainCpuUs = main0 === null || main1 === null ? null : (main1 - main0) / 1000 / errors.length;
  // The writes still queued are part of the storm's cost.
  if (side === 'ours' || side === 'oursJs') require(path.join(root, 'lib', 'logging', 'logger.js'))._flushLogThread();
  if (pinoDest) pinoDest.flushSync();
  const cpu = process.cpuUsage(cpu0);
  const perCallUs = (busy * 1000) / errors.length;
  const cpuPerCallUs = (cpu.user + cpu.system) / errors.length;
  h.disable();
  let pipelineStats = null;
  if (side === 'ours' || side === 'oursJs' || side === 'pipeline') {
    const deadline = Date.now() + 60000;
    while (ai.stats().pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    pipelineStats = ai.stats();
  } else {
    await new Promise((r) => setTimeout(r, 500));
  }
  if (global.gc) global.gc();
  const mem = process.memoryUsage();
  process.stdout.write(
    JSON.stringify({
      perCallUs,
      steadyUs,
      loopUs,
      mainCpuUs,
      firstBatchMs: batches[0],
      cpuPerCallUs,
      delayMaxMs: h.max / 1e6,
      delayP99Ms: h.percentile(99) / 1e6,
      rssMb: mem.rss / 1048576,
      heapMb: mem.heapUsed / 1048576,
      externalMb: mem.external / 1048576,
      pipeline: pipelineStats && {
        providerCalls: pipelineStats.providerCalls,
        deduplicated: pipelineStats.deduplicated,
        rejected: pipelineStats.rejected,
        cacheHits: pipelineStats.cacheHits,
        succeeded: pipelineStats.succeeded,
        failed: pipelineStats.failed,
      },
    }) + '\n'
  );
  process.exit(0);
}

if (process.argv.includes('--side')) {
  runSide(argOf('side', 'ours')).catch((err) => {
    console.error(err);
    process.exit(1);
  });
  return;
}

async function main() {
  const mock = spawn(process.execPath, [__filename, '--mock'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise((resolve) => {
    mock.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n') && !resolve.done) {
        resolve.done = true;
        resolve(out.split('\n')[0]);
      }
    });
  });
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-storm-'));
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    NODE_PATH: path.join(root, 'node_modules'),
    // Both sides log to files in a temporary directory, not to the console.
    QERRORS_VERBOSE: 'false',
    QERRORS_LOG_DIR: path.join(cwd, 'logs'),
    QERRORS_AI_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-storm',
    QERRORS_OPENAI_URL: url,
    QERRORS_RATE_LIMIT_ENABLED: 'false',
  };
  const run = (side, round) =>
    new Promise((resolve, reject) => {
      // Each run logs to fresh files.
      const runEnv = { ...env, QERRORS_LOG_DIR: path.join(cwd, `logs-${side}-${round}`) };
      if (side === 'oursJs') runEnv.QERRORS_LOG_THREAD = 'false';
      execFile(process.execPath, ['--expose-gc', __filename, '--side', side, '--errors', String(ERRORS)], { cwd, env: runEnv, maxBuffer: 1 << 24, timeout: 180000 }, (err, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() || '';
        try {
          resolve(JSON.parse(line));
        } catch {
          reject(new Error(`${side} failed: ${err && err.message}\n${stderr.slice(0, 2000)}`));
        }
      });
    });
  const { uniques } = storm(ERRORS);
  // Each side runs ROUNDS times, the order rotating; the row shown is the side's median
  // run (by mean time per call), with the range over the runs.
  const runs = { ours: [], oursJs: [], pipeline: [], legacy: [], pino: [], none: [] };
  const sides = Object.keys(runs);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < sides.length; k++) {
        const side = sides[(round + k) % sides.length];
        runs[side].push(await run(side, round));
      }
    }
  } catch (err) {
    // A failed side must end the run: the mock provider would otherwise keep it alive.
    mock.kill();
    fs.rmSync(cwd, { recursive: true, force: true });
    throw err;
  }
  const median = (xs) => [...xs].sort((a, b) => a.perCallUs - b.perCallUs)[xs.length >> 1];
  const ours = median(runs.ours);
  const pipeline = median(runs.pipeline);
  const legacy = median(runs.legacy);
  const oursJs = median(runs.oursJs);
  const pinoRun = median(runs.pino);
  const noneRun = median(runs.none);
  mock.stdin.end();
  await new Promise((r) => mock.on('exit', r));
  const lines = out.trim().split('\n');
  const mockCalls = Number(lines[lines.length - 1]);
  fs.rmSync(cwd, { recursive: true, force: true });
  console.log(
    `Error storm: ${ERRORS} errors, ${SIGNATURES} signatures (Zipf 1.1) + ${uniques} unique, mock provider at 200 ms; each side in its own process, ${ROUNDS} runs each (median run shown)`
  );
  console.log(
    '| side | µs per call (wall, mean) | steady µs per call (median batch) | event-loop µs per call | main-thread CPU µs per call | first batch ms | CPU µs per call | event-loop delay max / p99 ms | provider calls | RSS MB | heap MB | external MB |'
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const mainCpu = (r) => (r.mainCpuUs === null ? '-' : r.mainCpuUs.toFixed(1));
  const row = (label, r, calls) =>
    console.log(
      `| ${label} | ${r.perCallUs.toFixed(1)} | ${r.steadyUs.toFixed(1)} | ${r.loopUs.toFixed(1)} | ${mainCpu(r)} | ${r.firstBatchMs.toFixed(1)} | ${r.cpuPerCallUs.toFixed(1)} | ${r.delayMaxMs.toFixed(1)} / ${r.delayP99Ms.toFixed(1)} | ${calls} | ${r.rssMb.toFixed(1)} | ${r.heapMb.toFixed(1)} | ${r.externalMb.toFixed(1)} |`
    );
  const ideal = SIGNATURES + uniques;
  row('qerrors() of this package', ours, `${ours.pipeline.providerCalls} (ideal ${ideal})`);
  row('qerrors() of this package, QERRORS_LOG_THREAD=false', oursJs, `${oursJs.pipeline.providerCalls} (ideal ${ideal})`);
  row('aiPipeline.schedule() alone', pipeline, `${pipeline.pipeline.providerCalls} (ideal ${ideal})`);
  const calls = (side) => runs[side].reduce((sum, r) => sum + r.pipeline.providerCalls, 0);
  row('qerrors() 1.2.7', legacy, String((mockCalls - calls('ours') - calls('oursJs') - calls('pipeline')) / ROUNDS));
  row('pino().error(err) to a file (sync: false)', pinoRun, '-');
  row('an empty async function (the harness alone)', noneRun, '-');
  const range = (side, key) => {
    const xs = runs[side].map((r) => r[key]);
    return `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}`;
  };
  for (const side of sides) console.log(`${side}: µs per call over the runs ${range(side, 'perCallUs')} (mean), ${range(side, 'steadyUs')} (steady)`);
  console.log(
    `time per call ratio ours/1.2.7: mean ${(ours.perCallUs / legacy.perCallUs).toFixed(3)}, steady ${(ours.steadyUs / legacy.steadyUs).toFixed(3)}, event loop ${(ours.loopUs / legacy.loopUs).toFixed(3)} (target <= 0.2), main-thread CPU ${ours.mainCpuUs === null ? '-' : (ours.mainCpuUs / legacy.mainCpuUs).toFixed(3)}; ` +
      `CPU ratio ${(ours.cpuPerCallUs / legacy.cpuPerCallUs).toFixed(2)}; RSS ratio ${(ours.rssMb / legacy.rssMb).toFixed(2)}; ` +
      `event-loop delay max ratio ${(ours.delayMaxMs / legacy.delayMaxMs).toFixed(2)}`
  );
  const vs = (r, base) =>
    `mean ${(r.perCallUs / base.perCallUs).toFixed(2)}, steady ${(r.steadyUs / base.steadyUs).toFixed(2)}, event loop ${(r.loopUs / base.loopUs).toFixed(2)}` +
    (r.mainCpuUs === null ? '' : `, main-thread CPU ${(r.mainCpuUs / base.mainCpuUs).toFixed(2)}`);
  console.log(`time per call ratio ours/pino: ${vs(ours, pinoRun)} (target <= 1.0); QERRORS_LOG_THREAD=false/1.2.7: ${vs(oursJs, legacy)}`);
  // The harness's own memory (the storm's error objects and their stacks) is in every
  // side's RSS; above it is what each side added.
  const above = (r) => r.rssMb - noneRun.rssMb;
  console.log(`RSS above the harness's ${noneRun.rssMb.toFixed(1)} MB: ours ${above(ours).toFixed(1)} MB, 1.2.7 ${above(legacy).toFixed(1)} MB, pino ${above(pinoRun).toFixed(1)} MB (ours/1.2.7 ${(above(ours) / above(legacy)).toFixed(2)})`);
  console.log(`pipeline stats after qerrors(): ${JSON.stringify(ours.pipeline)}; mock saw ${mockCalls} requests in total`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

'use strict';

// Writes the opossum section of docs/compatibility.md, between its markers (other peers
// own other sections of the same file).

const fs = require('node:fs');

const BEGIN = '<!-- opossum:begin -->';
const END = '<!-- opossum:end -->';

function escape(text) {
  return String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function section(tag, s, rows) {
  const lines = [
    BEGIN,
    `## opossum ${tag} (tape)`,
    '',
    'The suite is opossum\'s own `test/` directory at the tag (the npm package does not ship it):',
    'clone `https://github.com/nodeshift/opossum`, `git checkout ' + tag + '`, keep the checkout outside this repository, then',
    '`node compat/run.js opossum --suite <checkout> --write` (tape is a devDependency here). The runner copies the tests into a',
    'temporary directory whose `index.js` is `module.exports = require(\'qerrors\').CircuitBreaker` (and `lib/status.js`,',
    '`lib/cache.js` re-export `CircuitBreaker.Status` and `CircuitBreaker.MemoryCache`), runs every test file on opossum',
    'itself and on ours, and rewrites this section.',
    '',
    '| tests | pass on opossum | applicable | pass on ours | not applicable |',
    '| --- | --- | --- | --- | --- |',
    `| ${s.total} | ${s.peerPass} | ${s.applicable} | ${s.oursPass} | ${s.notApplicable} |`,
    '',
  ];
  const na = rows.filter((r) => r.reason);
  if (na.length > 0) {
    lines.push('Not applicable:', '', '| file | test | reason |', '| --- | --- | --- |');
    for (const r of na) lines.push(`| ${escape(r.file)} | ${escape(r.name)} | ${escape(r.reason)} |`);
    lines.push('');
  }
  const failing = rows.filter((r) => !r.reason && !r.oursOk);
  if (failing.length > 0) {
    lines.push('Applicable tests that fail on ours:', '', '| file | test | first failed assertion |', '| --- | --- | --- |');
    for (const r of failing) lines.push(`| ${escape(r.file)} | ${escape(r.name)} | ${escape(r.failures[0] ?? '')} |`);
    lines.push('');
  }
  lines.push(END);
  return lines.join('\n');
}

/** Replaces (or appends) the opossum section of `file`. */
function writeSection(file, tag, summary, rows) {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Compatibility with peer libraries, measured by their own test suites\n';
  const body = section(tag, summary, rows);
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const next = start >= 0 && end > start ? text.slice(0, start) + body + text.slice(end + END.length) : `${text.trimEnd()}\n\n${body}\n`;
  fs.writeFileSync(file, next);
}

module.exports = { writeSection };

#!/usr/bin/env node
// `npm run bench`: the suites are TypeScript (bench/**/*.ts), compiled by the build into
// dist/bench/. Build first when that output is missing or older than any source the run
// measures or uses (berth's src/ and native/, the bench, the test harness it shares).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const entry = join(root, 'dist/bench/run.js');

function newestSource(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'results' && e.name !== 'build') t = Math.max(t, newestSource(p));
    else if (/\.(ts|c|h)$/.test(e.name) || e.name === 'Makefile') t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

const sources = ['bench', 'src', 'native', 'test/harness'].map((d) => join(root, d)).filter((d) => existsSync(d));
if (!existsSync(entry) || statSync(entry).mtimeMs < Math.max(...sources.map(newestSource))) {
  process.stderr.write('bench: building first (node scripts/build.mjs)\n');
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
}
await import(entry);

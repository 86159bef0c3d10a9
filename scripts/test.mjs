#!/usr/bin/env node
// Runs the test suite on the built output: `npm test` (all), `npm test -- unit` (no root needed).
// Integration files run one at a time: they share the kernel (mounts, cgroups, netns).
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
if (!process.env.BERTH_SKIP_BUILD) execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });

function walk(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const only = process.argv[2];
const filter = process.argv.slice(3);
let files = walk(join(root, 'dist'));
files = files.filter((f) => !f.includes('/node_modules/'));
// Filters match the path inside dist/, so a checkout's own path never matches by accident.
const rel = (f) => f.slice(join(root, 'dist').length + 1);
if (only === 'unit') files = files.filter((f) => !rel(f).includes('integration/'));
else if (only && only !== 'all') files = files.filter((f) => rel(f).includes(only));
if (filter.length) files = files.filter((f) => filter.some((x) => rel(f).includes(x)));
if (!files.length) {
  // node --test with no files would search the whole tree on its own, helpers included
  console.error(`test.mjs: no test file in dist/ matches ${process.argv.slice(2).map((a) => JSON.stringify(a)).join(' then ')}`);
  process.exit(2);
}
files.sort((a, b) => Number(a.includes('/integration/')) - Number(b.includes('/integration/')) || a.localeCompare(b));
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(r.status ?? 1);

#!/usr/bin/env node
// `npm run bench`: the suites are TypeScript (bench/**/*.ts), compiled by the build into
// dist/bench/. Build first when that output is missing or older than a source file.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const entry = join(root, 'dist/bench/run.js');

function newestSource(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'results') t = Math.max(t, newestSource(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

if (!existsSync(entry) || statSync(entry).mtimeMs < newestSource(join(root, 'bench'))) {
  process.stderr.write('bench: building first (node scripts/build.mjs)\n');
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
}
await import(entry);

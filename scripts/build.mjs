#!/usr/bin/env node
// One build: native helpers (C, from source), TypeScript (type-checked, emitted for tests),
// and one bundled file per executable so that a CLI start loads a single module.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run('make', ['-s', '-C', 'native']);
rmSync(`${root}/dist`, { recursive: true, force: true });
run(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', 'tsconfig.json']);
await build({
  entryPoints: {
    berth: 'src/bin/berth.ts',
    'berth-runtime': 'src/bin/berth-runtime.ts',
    'berth-runtime-server': 'src/bin/berth-runtime-server.ts',
  },
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: 'dist/bin',
  outExtension: { '.js': '.mjs' },
  external: ['better-sqlite3'],
  sourcemap: 'linked',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});

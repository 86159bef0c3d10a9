#!/usr/bin/env node
// One build: native helpers (C, from source), TypeScript (type-checked, emitted for tests),
// and one bundled file per executable so that a CLI start loads a single module.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run('make', ['-s', '-C', 'native']);
rmSync(`${root}/dist`, { recursive: true, force: true });
run(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', 'tsconfig.json']);
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  outdir: 'dist/bin',
  external: ['better-sqlite3'],
  sourcemap: 'linked',
  logLevel: 'warning',
};
await build({
  ...common,
  entryPoints: {
    'berth-runtime': 'src/bin/berth-runtime.ts',
    'berth-runtime-server': 'src/bin/berth-runtime-server.ts',
  },
  format: 'esm',
  outExtension: { '.js': '.mjs' },
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
// The CLI's entry, CommonJS: Node starts a .cjs entry ~5 ms sooner than an ES module (no ESM
// loader to set up), and every `berth` command pays it.
await build({
  ...common,
  entryPoints: { berth: 'src/bin/berth.ts' },
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  define: { 'import.meta.url': '__berth_import_meta_url' },
  banner: { js: "const __berth_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
});
// The CLI's body, CommonJS so that `berth.cjs` can run it with V8's code cache (vm.Script
// cachedData; Node 20 has no such cache for ES modules). import.meta.url is the file's URL.
await build({
  ...common,
  entryPoints: { 'berth-main': 'src/bin/berth-main.ts' },
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  define: { 'import.meta.url': '__berth_import_meta_url' },
  // A vm.Script has no loader for import() (Node 20: "A dynamic import callback was not
  // specified"): esbuild turns each import() into a require().
  supported: { 'dynamic-import': false },
  banner: {
    js: [
      "const __berth_import_meta_url = require('node:url').pathToFileURL(__filename).href;",
      'function __berthLazy(load, esm) { let m; const real = () => (m ??= load()); return new Proxy({}, { get: (_, k) => (esm && k === "default" ? real() : real()[k]), has: (_, k) => k in real() }); }',
    ].join(' '),
  },
});
// Node's network, crypto and compression modules cost ~10 ms to load and most commands never
// use them (ps, rm, logs...): their top-level requires become proxies that load on first use.
const main = `${root}/dist/bin/berth-main.cjs`;
const lazy = /^( *)var (\w+) = (__toESM\()?require\("((?:node:)?(?:crypto|zlib|tls|https|http|net|dgram|readline))"\)(, 1\))?;$/gm;
writeFileSync(
  main,
  readFileSync(main, 'utf8').replace(lazy, (all, indent, name, esm, mod, tail) =>
    !!esm === !!tail ? `${indent}var ${name} = __berthLazy(() => require("${mod}"), ${!!esm});` : all,
  ),
);

/**
 * `npm run bench [-- SUITE...] [--quick] [--out FILE]`: berth beside its peers in one run.
 * Prints a table of medians and ratios (berth / peer) and writes a JSON result file. Reports
 * only: no number here is asserted anywhere.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchScope, checkAborted, cleanupAll, defer, installSignalHandlers, removeTaggedCgroups, runTag } from './lib/cleanup.js';
import type { Context, Options, Suite } from './lib/context.js';
import { recordHostNet, restoreHostNet } from './lib/hostnet.js';
import { run } from './lib/proc.js';
import { failedRow, newCase, summarize, ratio, type Case } from './lib/result.js';
import { renderMarkdown, renderText } from './lib/table.js';
import { runtimeSuite } from './suites/runtime.js';
import { pullSuite } from './suites/pull.js';
import { engineSuite } from './suites/engine.js';
import { hardeningSuite } from './suites/hardening.js';
import { networkSuite } from './suites/network.js';
import { dockerapiSuite } from './suites/dockerapi.js';

const SUITES: Suite[] = [runtimeSuite, pullSuite, engineSuite, hardeningSuite, networkSuite, dockerapiSuite];

const USAGE = `usage: npm run bench -- [SUITE...] [options]

suites: ${SUITES.map((s) => `\n  ${s.name.padEnd(8)} ${s.describe}`).join('')}

options:
  --quick              short run (fewer iterations and rounds)
  --out FILE           where to write the JSON result (default bench/results/<date>.json)
  --iterations N       sequential iterations in the runtime suite (default 100, quick 20)
  --concurrency N      containers at once in the runtime and engine suites (default 50)
  --rounds N           rounds of the concurrent cases (default 5, quick 2)
  --pull-iterations N  pulls per implementation (default 5, quick 2)
  --engine-iterations N  'run --rm' per implementation (default 20, quick 5)
  --wrap-all           run every OCI runtime in crun's unshare wrapper, not only crun
  --repo DIR           the berth checkout to measure (default: this one; only read)
  --cache DIR          built-image cache (default $XDG_CACHE_HOME/berth-bench)
  --markdown           also print the tables as Markdown (for docs/benchmarks.md)
`;

function repoRoot(): string {
  // dist/bench/run.js -> the checkout's root.
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'bin/berth'))) return d;
    d = dirname(d);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '../..');
}

function int(v: string | undefined, dflt: number, what: string): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${what}: want a positive integer, got "${v}"`);
  return n;
}

async function firstLine(argv: string[]): Promise<string> {
  const r = await run(argv, { timeoutMs: 10_000 });
  return r.code === 0 ? (r.stdout.trim().split('\n')[0] ?? '') : 'not available';
}

function cgroupLayout(): string {
  const mounts = readFileSync('/proc/self/mounts', 'utf8');
  if (/ \/sys\/fs\/cgroup cgroup2 /.test(mounts)) return 'v2 (unified)';
  if (/ \/sys\/fs\/cgroup\/unified cgroup2 /.test(mounts)) return 'hybrid (v1 controllers + v2 at /sys/fs/cgroup/unified)';
  return 'v1';
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      iterations: { type: 'string' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
      'pull-iterations': { type: 'string' },
      'engine-iterations': { type: 'string' },
      'wrap-all': { type: 'boolean', default: false },
      repo: { type: 'string' },
      cache: { type: 'string' },
      markdown: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const unknown = positionals.filter((p) => !SUITES.some((s) => s.name === p));
  if (unknown.length) {
    process.stderr.write(`bench: unknown suite "${unknown[0]}"\n${USAGE}`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: must run as root (containers, mounts, cgroups)\n');
    return 2;
  }
  const quick = values.quick ?? false;
  const opts: Options = {
    quick,
    iterations: int(values.iterations, quick ? 20 : 100, 'iterations'),
    concurrency: int(values.concurrency, 50, 'concurrency'),
    rounds: int(values.rounds, quick ? 2 : 5, 'rounds'),
    pullIterations: int(values['pull-iterations'], quick ? 2 : 5, 'pull-iterations'),
    engineIterations: int(values['engine-iterations'], quick ? 5 : 20, 'engine-iterations'),
    wrapAll: values['wrap-all'] ?? false,
    repo: resolve(values.repo ?? repoRoot()),
    cache: resolve(values.cache ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'berth-bench')),
  };
  const selected = positionals.length ? SUITES.filter((s) => positionals.includes(s.name)) : SUITES;

  installSignalHandlers();
  const started = new Date();
  const sharedState = new Map<string, Promise<unknown>>();
  const ctx: Context = {
    opts,
    log: (msg) => process.stderr.write(`[${((Date.now() - started.getTime()) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`),
    shared: <T>(key: string, make: () => Promise<T>): Promise<T> => {
      if (!sharedState.has(key)) sharedState.set(key, make());
      return sharedState.get(key) as Promise<T>;
    },
  };

  const loadBefore = loadavg()[0];
  const hostNet = await recordHostNet();
  // Registered first, so it runs last: containers name their cgroups after the run's tag
  // (runtime ids, ctr's namespace, podman's --cgroup-parent). Then the harness scope, whose
  // cleanup stops the registry and containerds and removes podman's containers.
  defer('remove cgroups named after this run', () => {
    const left = removeTaggedCgroups();
    if (left.length) throw new Error(`cgroups left: ${left.join(', ')}`);
  });
  ctx.log(`run tag ${runTag()}: every container, cgroup and temp dir of this run carries it (under ${benchScope().dir})`);
  const cases: Case[] = [];
  const hostNotes: string[] = [];
  try {
    for (const suite of selected) {
      checkAborted();
      ctx.log(`suite ${suite.name}: ${suite.describe}`);
      try {
        cases.push(...(await suite.run(ctx)));
      } catch (err) {
        checkAborted();
        // A suite that cannot even set up reports why; the other suites still run.
        const c = newCase(suite.name, 'set-up', '-', '-');
        c.rows.push(failedRow(suite.name, (err as Error).message.split('\n')[0]));
        cases.push(c);
        ctx.log(`suite ${suite.name} failed: ${(err as Error).stack ?? String(err)}`);
      }
    }
  } finally {
    ctx.log('cleaning up');
    await cleanupAll();
    hostNotes.push(...(await restoreHostNet(hostNet)));
    for (const n of hostNotes) ctx.log(`restored host network state: ${n}`);
  }

  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    cgroups: cgroupLayout(),
    kvm: existsSync('/dev/kvm'),
    node: process.version,
    // Other work on the machine moves every number; the 1-minute load average says how much.
    loadavg1: { before: Number(loadBefore.toFixed(2)), after: Number(loadavg()[0].toFixed(2)) },
  };
  const versions = {
    runc: await firstLine(['runc', '--version']),
    crun: await firstLine(['crun', '--version']),
    podman: await firstLine(['podman', '--version']),
    containerd: await firstLine(['containerd', '--version']),
    skopeo: await firstLine(['skopeo', '--version']),
    registry: await firstLine(['docker-registry', '--version']),
    berth: (await run(['git', '-C', opts.repo, 'rev-parse', '--short', 'HEAD'])).stdout.trim() || 'unknown',
  };

  const header =
    `berth bench ${started.toISOString()}  (${machine.cpus} cores, ${machine.memoryGiB} GiB, kernel ${machine.kernel}, ` +
    `cgroups ${machine.cgroups}, ${machine.kvm ? '/dev/kvm present' : 'no KVM'}, load ${machine.loadavg1.before} -> ${machine.loadavg1.after}; ` +
    `berth ${versions.berth}${quick ? '; --quick' : ''})`;
  process.stdout.write(`\n${header}\n${renderText(cases)}\n`);
  if (values.markdown) process.stdout.write(`\n${renderMarkdown(cases)}\n`);

  // Results belong to this checkout (the bench's own), even when --repo measures another one.
  const out = values.out ?? join(repoRoot(), 'bench/results', `${started.toISOString().replace(/[:]/g, '-').replace(/\..*/, '')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  const json = {
    date: started.toISOString(),
    runTag: runTag(),
    machine,
    versions,
    options: opts,
    hostNetworkRestored: hostNotes,
    cases: cases.map((c) => ({
      ...c,
      rows: c.rows.map((r) => ({ ...r, summary: summarize(r.samples) ?? null, ratio: ratio(c, r) ?? null })),
    })),
  };
  writeFileSync(out, JSON.stringify(json, null, 2) + '\n');
  process.stdout.write(`\nresults: ${out}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    await cleanupAll();
    process.exitCode = 1;
  },
);

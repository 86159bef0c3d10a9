import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtimeBinary, runtimeName } from '../../harness/index.js';

/** The repository root, from dist/test/integration/monitor/ or test/integration/monitor/. */
export const REPO = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../../' : '../../../', import.meta.url));

/**
 * The runtime under test, as the harness picks it (env BERTH_TEST_RUNTIME: a name on PATH such
 * as `runc`, or a path; default the repo's bin/berth-runtime), plus `berth` for the latter.
 */
export function testRuntime(): { name: string; path: string } {
  if (process.env.BERTH_TEST_RUNTIME === 'berth') return { name: 'berth', path: join(REPO, 'bin', 'berth-runtime') };
  let path = runtimeBinary();
  if (!path.includes('/')) {
    const r = spawnSync('sh', ['-c', `command -v "${path}"`], { encoding: 'utf8' });
    path = r.stdout.trim() || path;
  }
  return { name: runtimeName(), path };
}

const APPLETS = ['sh', 'echo', 'sleep', 'cat', 'stty', 'tty', 'seq', 'true', 'false', 'head', 'tr', 'printf'];

/** A read-only busybox rootfs (Debian's static busybox), shared by the bundles of a test file. */
export function makeRootfs(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  for (const d of ['proc', 'dev', 'sys', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  for (const a of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', a));
  return rootfs;
}

/** A bundle in dir: config.json from `runc spec`, with our args and terminal setting. */
export function makeBundle(
  dir: string,
  rootfs: string,
  args: string[],
  opts: { terminal?: boolean; memoryLimit?: number } = {},
): string {
  mkdirSync(dir, { recursive: true });
  execFileSync('runc', ['spec', '--bundle', dir]);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  cfg.root = { path: rootfs, readonly: true };
  cfg.process.terminal = !!opts.terminal;
  cfg.process.args = args;
  cfg.process.env = ['PATH=/bin', 'TERM=xterm'];
  cfg.hostname = 'monitor-test';
  if (opts.memoryLimit) cfg.linux.resources.memory = { limit: opts.memoryLimit, swap: opts.memoryLimit };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg, null, 1));
  return dir;
}

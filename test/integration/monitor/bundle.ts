import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from dist/test/integration/monitor/ or test/integration/monitor/. */
export const REPO = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../../' : '../../../', import.meta.url));

/** The runtime under test: BERTH_TEST_RUNTIME=runc (default) or berth. */
export function testRuntime(): { name: string; path: string } {
  const which = process.env.BERTH_TEST_RUNTIME ?? 'runc';
  if (which === 'berth') return { name: 'berth', path: join(REPO, 'bin', 'berth-runtime') };
  return { name: 'runc', path: execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim() };
}

const APPLETS = ['sh', 'echo', 'sleep', 'cat', 'stty', 'tty', 'seq', 'true', 'false', 'head', 'tr'];

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

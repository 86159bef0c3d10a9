/**
 * A `runc spec`-style OCI bundle whose rootfs is Debian's busybox-static: the one bundle every
 * runtime in the runtime suite runs. The rootfs is read-only (as `runc spec` makes it), so
 * concurrent containers can share it.
 */
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { mustRun } from '../lib/proc.js';

export const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'true', 'false', 'sleep', 'ls', 'cat', 'echo', 'id', 'env'];

/** Fill `rootfs` with busybox and the applet links a test container needs. */
export function makeBusyboxRootfs(rootfs: string): void {
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc', 'root']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  for (const a of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\n');
}

/** Create the bundle in `dir` (which must exist): `runc spec`, then `true` without a terminal. */
export async function makeTrueBundle(dir: string, args: string[] = ['true']): Promise<void> {
  makeBusyboxRootfs(join(dir, 'rootfs'));
  await mustRun(['runc', 'spec', '--bundle', dir]);
  const cfgPath = join(dir, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as {
    process: { terminal: boolean; args: string[] };
    root: { path: string; readonly: boolean };
  };
  cfg.process.terminal = false;
  cfg.process.args = args;
  cfg.root.readonly = true;
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
}

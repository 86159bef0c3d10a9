/**
 * A `runc spec`-style OCI bundle whose rootfs is Debian's busybox-static: the one bundle every
 * runtime in the runtime suite runs. The rootfs is read-only (as `runc spec` makes it), so
 * concurrent containers can share it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeBusyboxRootfs } from '../../test/harness/bundle.js';
import { mustRun } from '../lib/proc.js';

/** busybox-static and its applet links (the harness's rootfs, without the test checker). */
export function makeBusyboxRootfs(rootfs: string): void {
  mkdirSync(rootfs, { recursive: true });
  writeBusyboxRootfs(rootfs, { checker: false });
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

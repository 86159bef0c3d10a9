/**
 * Run a container through launchContainer/releaseContainer and collect what its shell wrote to
 * /out (a host dir bind-mounted in): the container's own stdio is the test runner's, so the
 * commands redirect into /out instead.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { launchContainer, releaseContainer, type LaunchOptions } from '../../../src/runtime/launch.js';
import { validateSpec } from '../../../src/spec/validate.js';
import type { TestBundle } from './_bundle.js';

export function withOut(b: TestBundle): string {
  const out = join(b.dir, 'out');
  mkdirSync(out, { recursive: true });
  chmodSync(out, 0o777); // the container's user may not be root
  b.spec.mounts = [...(b.spec.mounts ?? []), { destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] }];
  return out;
}

/** Run `script` with sh in the bundle's container (foreground) and return status and /out/log. */
export async function runScript(
  b: TestBundle,
  script: string,
  extra: Partial<LaunchOptions> = {},
): Promise<{ status: number; out: string; pid: number }> {
  const out = withOut(b);
  b.spec.process!.args = ['sh', '-c', `exec >/out/log 2>&1; ${script}`];
  const spec = validateSpec(JSON.parse(JSON.stringify(b.spec)), b.dir);
  const l = await launchContainer({
    id: `t-${Math.random().toString(36).slice(2, 8)}`,
    bundle: b.dir,
    spec,
    stateDir: b.stateDir,
    cgroupProcsFiles: [],
    foreground: true,
    ...extra,
  });
  await releaseContainer(b.stateDir, l.pid);
  const status = await l.wait!();
  const log = join(out, 'log');
  return { status, out: existsSync(log) ? readFileSync(log, 'utf8') : '', pid: l.pid };
}

/** Mount points under `dir` in the host's mount table (a leak check for our bundles). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p) => p && p.startsWith(dir));
}

/** Processes whose cwd or root is inside `dir` (leftover container processes). */
export function processesIn(dir: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const root = readlinkSync(`/proc/${p}/root`);
      if (root.startsWith(dir)) out.push(Number(p));
    } catch {
      // gone or not ours to read
    }
  }
  return out;
}


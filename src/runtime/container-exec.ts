import { BerthError } from '../errors/index.js';
import { writeFileAtomic } from '../util/fs.js';
import { resolve } from 'node:path';
import { deriveStatus } from './container-state.js';
import { execProcess } from './exec.js';
import { cgroupOf, type RuntimeContext } from './context.js';
import type { Process } from '../spec/runtime.js';

export interface ContainerExecOptions {
  id: string;
  process: Process;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
}

/** `exec`: run another process in a running container. Returns its exit status (0 when detached). */
export async function execInContainer(rt: RuntimeContext, opts: ContainerExecOptions): Promise<number> {
  const rec = rt.root.load(opts.id);
  const cg = cgroupOf(rec);
  const status = deriveStatus(rec, () => cg.isFrozen());
  if (status !== 'running') {
    throw new BerthError('FAILED_PRECONDITION', `exec in container ${JSON.stringify(opts.id)}: container is ${status}, not running`);
  }
  if (!opts.process.args || opts.process.args.length === 0) {
    throw new BerthError('INVALID_ARGUMENT', `exec in container ${JSON.stringify(opts.id)}: process.args must not be empty`);
  }
  const spec = rt.root.loadSpec(opts.id);
  const started = await execProcess({
    pid: rec.pid,
    id: opts.id,
    bundle: rec.bundle,
    spec,
    process: opts.process,
    cgroupProcsFiles: cg.procsFiles(),
    consoleSocket: opts.consoleSocket,
    preserveFds: opts.preserveFds,
    detach: !!opts.detach,
  });
  if (opts.pidFile) writeFileAtomic(resolve(opts.pidFile), String(started.pid));
  if (opts.detach || !started.wait) return 0;
  return started.wait();
}

/** The process for `exec` in flag form: the container's own process with the flags on top (as runc). */
export function execProcessFromFlags(base: Process | undefined, f: {
  args: string[];
  env?: string[];
  cwd?: string;
  user?: string;
  additionalGids?: number[];
  tty?: boolean;
  caps?: string[];
  noNewPrivs?: boolean;
}): Process {
  const p: Process = structuredClone(base ?? { user: { uid: 0, gid: 0 }, cwd: '/' });
  p.args = f.args;
  p.terminal = !!f.tty;
  if (f.cwd) p.cwd = f.cwd;
  if (f.env?.length) {
    const env = new Map((p.env ?? []).map((kv) => [kv.split('=')[0], kv]));
    for (const kv of f.env) env.set(kv.split('=')[0], kv);
    p.env = [...env.values()];
  }
  if (f.user) {
    const [u, g] = f.user.split(':');
    if (!/^\d+$/.test(u) || (g !== undefined && !/^\d+$/.test(g))) {
      throw new BerthError('INVALID_ARGUMENT', `invalid --user ${JSON.stringify(f.user)}: expected UID[:GID]`);
    }
    p.user = { ...p.user, uid: Number(u), gid: g === undefined ? p.user.gid : Number(g) };
  }
  if (f.additionalGids?.length) p.user = { ...p.user, additionalGids: f.additionalGids };
  if (f.caps?.length) {
    const c = p.capabilities ?? {};
    for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) {
      if (set === 'inheritable' || set === 'ambient') continue;
      c[set] = [...new Set([...(c[set] ?? []), ...f.caps])];
    }
    p.capabilities = c;
  }
  if (f.noNewPrivs) p.noNewPrivileges = true;
  return p;
}

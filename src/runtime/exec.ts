/**
 * exec: run one more process inside a running container. The helper joins every namespace
 * of the container's init that differs from ours (user first, setns(2)), its cgroups and its
 * root (/proc/PID/root, so --no-pivot containers work too), forks inside the pid namespace,
 * applies the process (user, caps, rlimits, env, cwd, no_new_privs, terminal) and execs.
 */
import { statSync } from 'node:fs';
import { BerthError } from '../errors/index.js';
import type { Namespace, NamespaceType, Process, Spec } from '../spec/runtime.js';
import { listenerStateParts, seccompFor } from './seccomp-for.js';
import { ownCgroupProcsFiles } from './cgroup-return.js';
import { HelperSession, exitStatusWaiter, helperError, parseLine } from './native.js';
import { compileExecPlan } from './plan.js';

export interface ExecOptions {
  /** Host pid of the container's init. */
  pid: number;
  /** The container's spec (namespaces, seccomp). */
  spec: Spec;
  process: Process;
  cgroupProcsFiles: string[];
  consoleSocket?: string;
  preserveFds?: number;
  detach: boolean;
  /** A compiled seccomp filter for the process (struct sock_filter[]). */
  seccompBpf?: Uint8Array;
  seccompFlags?: number;
  /** The container's id and bundle, for the seccomp listener's state (linux.seccomp.listenerPath). */
  id?: string;
  bundle?: string;
}

/** /proc/PID/ns/* file names per namespace type. */
const NS_FILES: Record<NamespaceType, string> = {
  user: 'user',
  mount: 'mnt',
  pid: 'pid',
  network: 'net',
  ipc: 'ipc',
  uts: 'uts',
  cgroup: 'cgroup',
  time: 'time',
};

/** The container's namespaces that are not ours, as paths under /proc/PID/ns. */
export function containerNamespaces(pid: number): Namespace[] {
  const out: Namespace[] = [];
  for (const [type, file] of Object.entries(NS_FILES) as [NamespaceType, string][]) {
    let theirs: number;
    try {
      theirs = statSync(`/proc/${pid}/ns/${file}`).ino;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && statExists(`/proc/${pid}`)) continue; // kernel without this ns type
      throw new BerthError('FAILED_PRECONDITION', `exec: container init (pid ${pid}) is not running`);
    }
    const ours = statSync(`/proc/self/ns/${file}`).ino;
    if (theirs !== ours) out.push({ type, path: `/proc/${pid}/ns/${file}` });
  }
  return out;
}

function statExists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Start `process` in the container of init `pid`. Resolves once it runs (after its execve);
 * with detach=false, `wait()` resolves with its exit status (128+signal if killed).
 */
export async function execProcess(opts: ExecOptions): Promise<{ pid: number; wait?: () => Promise<number> }> {
  const seccomp = seccompFor(opts.spec, opts.seccompBpf, opts.seccompFlags);
  if (opts.process.terminal && !opts.consoleSocket && opts.detach) {
    throw new BerthError('INVALID_ARGUMENT', 'exec: a terminal needs a console socket when the process runs detached');
  }
  const ops = compileExecPlan({
    pid: opts.pid,
    process: opts.process,
    namespaces: containerNamespaces(opts.pid),
    cgroupProcsFiles: opts.cgroupProcsFiles,
    cgroupReturnFiles: opts.detach ? [] : ownCgroupProcsFiles(opts.cgroupProcsFiles),
    consoleSocket: opts.consoleSocket,
    preserveFds: opts.preserveFds,
    detach: opts.detach,
    seccompBpf: seccomp?.bpf,
    seccompFlags: seccomp?.flags,
    seccompListener: seccomp?.listenerPath
      ? {
          path: seccomp.listenerPath,
          parts: listenerStateParts(opts.spec, { id: opts.id ?? '', bundle: opts.bundle ?? '', status: 'running', initPid: opts.pid }),
        }
      : undefined,
  });
  const h = new HelperSession(ops, opts.preserveFds);
  let pid = 0;
  for (;;) {
    const line = await h.next();
    if (line === null) {
      const status = await h.exited();
      throw new BerthError('INTERNAL', `berth-init exited without starting the process (status ${status})`);
    }
    const [op, arg] = parseLine(line);
    if (op === 'PID') pid = Number(arg);
    else if (op === 'STARTED') break;
    else if (op === 'ERROR') {
      await h.exited();
      throw helperError(line);
    } else {
      // the init dies with the helper (PR_SET_PDEATHSIG)
      h.kill();
      throw new BerthError('INTERNAL', `berth-init: unexpected message ${JSON.stringify(line)}`);
    }
  }
  if (opts.detach) {
    await h.exited();
    h.close();
    return { pid };
  }
  const wait = exitStatusWaiter(h, 'process');
  return { pid, wait };
}

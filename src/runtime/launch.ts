/**
 * create/start: turn a validated spec into a container init that waits for `start`
 * (OCI runtime-spec "Lifecycle" steps 1-7), then let it execve the user process.
 * The work between clone() and execve() is done by the C helper; see docs/runtime-native.md.
 */
import { closeSync, openSync, readFileSync, readSync, unlinkSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { BerthError, toBerthError, withCleanupError } from '../errors/index.js';
import type { Spec } from '../spec/runtime.js';
import { listenerStateParts, seccompFor } from './seccomp-for.js';
import { ownCgroupProcsFiles } from './cgroup-return.js';
import { HelperSession, exitStatusWaiter, helperError, parseLine } from './native.js';
import { compileLaunchPlan, type HostCgroupMount } from './plan.js';

export interface LaunchOptions {
  id: string;
  /** Absolute bundle dir; spec.root.path is relative to it. */
  bundle: string;
  /** Already validated with validateSpec(). */
  spec: Spec;
  /** Per-container dir the caller created; exec.fifo goes here. */
  stateDir: string;
  /** The helper writes its pid into each before clone(): the container starts inside. */
  cgroupProcsFiles: string[];
  /** --console-socket: the pty master is sent over this unix socket (SCM_RIGHTS). */
  consoleSocket?: string;
  /** --preserve-fds N: fds 3..3+N-1 of the caller pass through to the container. */
  preserveFds?: number;
  /** --no-pivot: MS_MOVE + chroot instead of pivot_root. */
  noPivot?: boolean;
  /** `run` without --detach: the helper stays the init's parent and relays its exit status. */
  foreground?: boolean;
  /** createRuntime+prestart hooks: after namespaces and mounts, before pivot_root. */
  onCreateRuntime?: (pid: number) => Promise<void>;
  /** createContainer hooks: in the container's mount ns, before pivot_root. */
  onCreateContainer?: (pid: number) => Promise<void>;
  /** A compiled seccomp filter (struct sock_filter[]); installed last, before execve. */
  seccompBpf?: Uint8Array;
  seccompFlags?: number;
}

export interface Launched {
  /** Host pid of the container's init. */
  pid: number;
  /** Only with foreground: resolves with the exit status (128+signal if killed). */
  wait?: () => Promise<number>;
}

export const EXEC_FIFO = 'exec.fifo';

/** Cgroup hierarchies mounted on the host (for `cgroup` mounts in the spec). */
export function readHostCgroupMounts(): HostCgroupMount[] {
  const out: HostCgroupMount[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const [fstype, , superOpts = ''] = post.split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mountPoint = pre.split(' ')[4];
    if (!mountPoint.startsWith('/sys/fs/cgroup')) continue;
    const options = superOpts
      .split(',')
      .filter((o) => o !== 'rw' && o !== 'ro')
      .join(',');
    out.push({ mountPoint, fstype, options });
  }
  return out;
}

/**
 * Create the container: on return its init has every namespace, mount, device, identity and
 * limit in place and blocks on the exec fifo until releaseContainer(). On failure nothing is
 * left: the helper kills and reaps the init before it reports.
 */
export async function launchContainer(opts: LaunchOptions): Promise<Launched> {
  const spec = opts.spec;
  if (spec.process?.terminal && !opts.consoleSocket && !opts.foreground) {
    // nobody would hold the pty master once create returns (runc refuses this too)
    throw new BerthError('INVALID_ARGUMENT', 'process.terminal needs a console socket when the container runs detached');
  }
  const hooks = !!(opts.onCreateRuntime || opts.onCreateContainer);
  const needCgroups = (spec.mounts ?? []).some((m) => m.type === 'cgroup' || m.type === 'cgroup2');
  const seccomp = seccompFor(opts.spec, opts.seccompBpf, opts.seccompFlags);
  const ops = compileLaunchPlan({
    spec,
    bundle: opts.bundle,
    fifo: join(opts.stateDir, EXEC_FIFO),
    cgroupProcsFiles: opts.cgroupProcsFiles,
    cgroupReturnFiles: opts.foreground ? ownCgroupProcsFiles(opts.cgroupProcsFiles) : [],
    consoleSocket: opts.consoleSocket,
    preserveFds: opts.preserveFds,
    noPivot: opts.noPivot,
    foreground: opts.foreground,
    hooks,
    hostUid: process.getuid?.() ?? 0,
    hostCgroups: needCgroups ? readHostCgroupMounts() : [],
    seccompBpf: seccomp?.bpf,
    seccompFlags: seccomp?.flags,
    seccompListener: seccomp?.listenerPath
      ? { path: seccomp.listenerPath, parts: listenerStateParts(spec, { id: opts.id, bundle: opts.bundle, status: 'creating' }) }
      : undefined,
  });
  const h = new HelperSession(ops, opts.preserveFds);
  try {
    return await drive(h, opts);
  } catch (err) {
    // the helper already killed and reaped the init; leave no fifo behind either
    try {
      unlinkSync(join(opts.stateDir, EXEC_FIFO));
    } catch {
      // not created yet
    }
    throw err;
  }
}

async function drive(h: HelperSession, opts: LaunchOptions): Promise<Launched> {
  let pid = 0;
  for (;;) {
    const line = await h.next();
    if (line === null) {
      const status = await h.exited();
      throw new BerthError('INTERNAL', `berth-init exited without creating the container (status ${status})`);
    }
    const [op, ...args] = parseLine(line);
    if (op === 'PID') {
      pid = Number(args[0]);
    } else if (op === 'HOOK') {
      try {
        await opts.onCreateRuntime?.(pid);
        await opts.onCreateContainer?.(pid);
      } catch (err) {
        // The helper kills and reaps the init when told to abort.
        h.send('ABORT');
        const e = toBerthError(err);
        await h.exited().catch((c) => withCleanupError(e, c));
        throw e;
      }
      h.send('CONT');
    } else if (op === 'CREATED') {
      break;
    } else if (op === 'ERROR') {
      await h.exited();
      throw helperError(line);
    } else {
      // the init dies with the helper (PR_SET_PDEATHSIG)
      h.kill();
      throw new BerthError('INTERNAL', `berth-init: unexpected message ${JSON.stringify(line)}`);
    }
  }
  if (!opts.foreground) {
    const status = await h.exited();
    h.close();
    if (status !== 0) throw new BerthError('INTERNAL', `berth-init exited with status ${status} after create`);
    return { pid };
  }
  const wait = exitStatusWaiter(h, 'container');
  return { pid, wait };
}

function initState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  const s = initState(pid);
  return s !== undefined && s !== 'Z' && s !== 'X';
}

const START_TIMEOUT_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `start`: open the exec fifo for reading, which lets the waiting init write one byte and
 * execve the user process (runc's exec.fifo handshake). Throws FAILED_PRECONDITION if the init
 * is gone or was already started.
 */
export async function releaseContainer(stateDir: string, pid: number): Promise<void> {
  const fifo = join(stateDir, EXEC_FIFO);
  if (!alive(pid)) throw new BerthError('FAILED_PRECONDITION', `start: container init (pid ${pid}) is not running`);
  let fd: number;
  try {
    // O_NONBLOCK: the open must not hang if the init died meanwhile (fifo(7)).
    fd = openSync(fifo, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BerthError('FAILED_PRECONDITION', `start: no exec fifo in ${stateDir}: the container was already started`);
    }
    throw BerthError.wrap(err, 'start: open exec fifo');
  }
  try {
    const buf = Buffer.alloc(1);
    const deadline = Date.now() + START_TIMEOUT_MS;
    const readByte = () => {
      try {
        return readSync(fd, buf, 0, 1, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw BerthError.wrap(err, 'start: read exec fifo');
        return 0;
      }
    };
    for (let i = 0; ; i++) {
      if (readByte() > 0) break;
      // The init may have written, exec'd and already exited (`true`) since that read: the
      // byte waits in the fifo. Only a fifo still empty after the init is gone is a failure.
      if (!alive(pid)) {
        if (readByte() > 0) break;
        throw new BerthError('FAILED_PRECONDITION', `start: container init (pid ${pid}) exited before start`);
      }
      // a blocked init answers at once; this only fires if the pid now names another process
      if (Date.now() > deadline) {
        throw new BerthError('DEADLINE_EXCEEDED', `start: container init (pid ${pid}) did not take the exec fifo within ${START_TIMEOUT_MS / 1000}s`);
      }
      // The writer wakes within microseconds: yield first, back off gently if it does not.
      await (i < 50 ? new Promise((r) => setImmediate(r)) : sleep(2));
    }
  } finally {
    closeSync(fd);
  }
  try {
    unlinkSync(fifo);
  } catch {
    // already gone: start raced with delete; the init is running anyway
  }
}

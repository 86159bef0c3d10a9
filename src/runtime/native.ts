/**
 * Finding and talking to the C helper (native/build/berth-init). The helper reads a plan on a
 * control socket (Node's 'pipe' stdio entries are socketpairs) and answers with lines:
 * PID n, HOOK, CREATED, STARTED, EXIT n, ERROR step errno text. See docs/runtime-native.md.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import { BerthError, codeForErrno } from '../errors/index.js';
import { decodeArg, encodePlan, type PlanOp } from './plan.js';
import { ownCgroupProcsFiles } from './cgroup-return.js';

let helperPath: string | undefined;

/** The helper binary: $BERTH_INIT, else native/build/berth-init above this module. */
export function findHelper(): string {
  if (helperPath) return helperPath;
  const env = process.env.BERTH_INIT;
  if (env) return (helperPath = env);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'native', 'build', 'berth-init');
    if (existsSync(p)) return (helperPath = p);
    dir = dirname(dir);
  }
  throw new BerthError('NOT_FOUND', 'berth-init helper not found: build it with "make -C native" or set BERTH_INIT');
}

/**
 * A helper that the caller runs itself (the runtime server, docs/runtime-server.md): the
 * caller's process execs berth-init on a connection it made to the server, so the init is born
 * in the caller's process tree. `attach` makes the caller exec and hands back the channel.
 */
export interface HelperChannel {
  /** The caller's pid: berth-init once attached. */
  readonly callerPid: number;
  attach(preserveFds: number, onData: (d: string) => void, onEnd: () => void): AttachedHelper;
}

export interface AttachedHelper {
  write(data: string): void;
  /** The helper's exit status ("FINISH n"); 255 if the connection ended first. */
  exit: Promise<number>;
  kill(): void;
}

/** Set by the runtime server around one request; unset, the helper is spawned as a child. */
export const helperChannel = new AsyncLocalStorage<HelperChannel>();

/** A running helper and its control channel. */
export class HelperSession {
  readonly child?: ChildProcess;
  #sock?: Socket;
  #attached?: AttachedHelper;
  #buf = '';
  #lines: string[] = [];
  #waiters: ((l: string | null) => void)[] = [];
  #eof = false;
  #exit: Promise<number>;

  constructor(ops: readonly PlanOp[], preserveFds = 0) {
    const channel = helperChannel.getStore();
    if (channel) {
      this.#attached = channel.attach(preserveFds, (d) => this.#data(d), () => this.#end());
      this.#exit = this.#attached.exit;
      this.#attached.write(encodePlan(leaveToCaller(ops, channel.callerPid)));
      return;
    }
    const ctlFd = 3 + preserveFds;
    // fds 0-2 and the preserved fds are the caller's own: the helper hands them to the container.
    const stdio: StdioOptions = ['inherit', 'inherit', 'inherit'];
    for (let i = 0; i < preserveFds; i++) stdio.push(3 + i);
    stdio.push('pipe');
    const child = spawn(findHelper(), [String(ctlFd)], { stdio, env: {}, argv0: 'berth-init' });
    this.child = child;
    this.#exit = new Promise((resolve) => {
      child.once('exit', (code, sig) => resolve(code ?? 128 + (sig ? signalNumber(sig) : 0)));
      child.once('error', () => resolve(-1));
    });
    const sock = child.stdio[ctlFd] as Socket | null;
    if (!sock) throw new BerthError('INTERNAL', `berth-init: no control socket (spawn ${findHelper()} failed)`);
    this.#sock = sock;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.#data(d));
    sock.on('end', () => this.#end());
    sock.on('close', () => this.#end());
    sock.on('error', () => this.#end());
    sock.write(encodePlan(ops));
  }

  #data(d: string): void {
    this.#buf += d;
    let i;
    while ((i = this.#buf.indexOf('\n')) >= 0) {
      this.#push(this.#buf.slice(0, i));
      this.#buf = this.#buf.slice(i + 1);
    }
  }

  #push(l: string): void {
    const w = this.#waiters.shift();
    if (w) w(l);
    else this.#lines.push(l);
  }

  #end(): void {
    if (this.#eof) return;
    this.#eof = true;
    for (const w of this.#waiters.splice(0)) w(null);
  }

  /** The next line from the helper, or null once it closed the channel. */
  next(): Promise<string | null> {
    const l = this.#lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.#eof) return Promise.resolve(null);
    return new Promise((r) => this.#waiters.push(r));
  }

  send(line: string): void {
    if (this.#eof) return;
    if (this.#attached) this.#attached.write(`${line}\n`);
    else this.#sock?.write(`${line}\n`);
  }

  /** Exit status of the helper process (not of the container). */
  exited(): Promise<number> {
    return this.#exit;
  }

  close(): void {
    // an attached helper waits for the server's last word ("DONE"): the server ends it
    this.#sock?.destroy();
  }

  /** Kill the helper (its init follows through PR_SET_PDEATHSIG) and close the channel. */
  kill(): void {
    if (this.#attached) return this.#attached.kill();
    try {
      this.child?.kill('SIGKILL');
    } catch {
      // already gone
    }
    this.close();
  }
}

/**
 * The caller's helper waits for the server's "DONE" after its part, so it must never stay in
 * the container's cgroups (a failed create destroys them, killing whatever is inside): it
 * always goes back to the caller's own cgroups, which are not the server's.
 */
function leaveToCaller(ops: readonly PlanOp[], callerPid: number): readonly PlanOp[] {
  const joined = ops.filter((o) => o[0] === 'CGROUP').map((o) => String(o[1]));
  const leave = ownCgroupProcsFiles(joined, callerPid).map((f): PlanOp => ['CGROUPLEAVE', f]);
  const rest = ops.filter((o) => o[0] !== 'CGROUPLEAVE');
  const at = rest.reduce((last, o, i) => (o[0] === 'CGROUP' ? i + 1 : last), 1);
  return [...rest.slice(0, at), ...leave, ...rest.slice(at)];
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };
function signalNumber(sig: NodeJS.Signals): number {
  return SIGNALS[sig] ?? 0;
}

/** A helper line "ERROR step errno text" as a BerthError naming the step. */
export function helperError(line: string): BerthError {
  const [, step = '', errno = '', text = ''] = line.split(' ');
  const s = decodeArg(step);
  const t = decodeArg(text);
  const e = errno === 'EUNKNOWN' ? undefined : errno;
  return new BerthError(codeForErrno(e), `${s}: ${t.toLowerCase()}`, { errno: e });
}

/** Split a helper line into its op and decoded arguments. */
export function parseLine(line: string): [string, ...string[]] {
  const [op, ...args] = line.split(' ');
  return [op, ...args.map(decodeArg)];
}

/**
 * `wait()` for a helper that stays the process's parent (foreground run, waited exec): reads
 * until EXIT, then reaps the helper. Memoised, so several callers share one read loop.
 */
export function exitStatusWaiter(h: HelperSession, what: string): () => Promise<number> {
  let status: Promise<number> | undefined;
  return () =>
    (status ??= (async () => {
      for (;;) {
        const line = await h.next();
        if (line === null) {
          const st = await h.exited();
          throw new BerthError('INTERNAL', `berth-init exited (status ${st}) without the ${what}'s exit status`);
        }
        const [op, arg] = parseLine(line);
        if (op === 'EXIT') {
          await h.exited();
          h.close();
          return Number(arg);
        }
      }
    })());
}

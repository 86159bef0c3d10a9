/**
 * Finding and talking to the C helper (native/build/berth-init). The helper reads a plan on a
 * control socket (Node's 'pipe' stdio entries are socketpairs) and answers with lines:
 * PID n, HOOK, CREATED, STARTED, EXIT n, ERROR step errno text. See docs/runtime-native.md.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import { BerthError, codeForErrno } from '../errors/index.js';
import { decodeArg, encodePlan, type PlanOp } from './plan.js';

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

/** A running helper and its control channel. */
export class HelperSession {
  readonly child: ChildProcess;
  #sock: Socket;
  #buf = '';
  #lines: string[] = [];
  #waiters: ((l: string | null) => void)[] = [];
  #eof = false;
  #exit: Promise<number>;

  constructor(ops: readonly PlanOp[], preserveFds = 0) {
    const ctlFd = 3 + preserveFds;
    // fds 0-2 and the preserved fds are the caller's own: the helper hands them to the container.
    const stdio: StdioOptions = ['inherit', 'inherit', 'inherit'];
    for (let i = 0; i < preserveFds; i++) stdio.push(3 + i);
    stdio.push('pipe');
    this.child = spawn(findHelper(), [String(ctlFd)], { stdio, env: {}, argv0: 'berth-init' });
    this.#exit = new Promise((resolve) => {
      this.child.once('exit', (code, sig) => resolve(code ?? 128 + (sig ? signalNumber(sig) : 0)));
      this.child.once('error', () => resolve(-1));
    });
    const sock = this.child.stdio[ctlFd] as Socket | null;
    if (!sock) throw new BerthError('INTERNAL', `berth-init: no control socket (spawn ${findHelper()} failed)`);
    this.#sock = sock;
    this.#sock.setEncoding('utf8');
    this.#sock.on('data', (d: string) => {
      this.#buf += d;
      let i;
      while ((i = this.#buf.indexOf('\n')) >= 0) {
        this.#push(this.#buf.slice(0, i));
        this.#buf = this.#buf.slice(i + 1);
      }
    });
    this.#sock.on('end', () => this.#end());
    this.#sock.on('close', () => this.#end());
    this.#sock.on('error', () => this.#end());
    this.#sock.write(encodePlan(ops));
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
    if (!this.#eof) this.#sock.write(`${line}\n`);
  }

  /** Exit status of the helper process (not of the container). */
  exited(): Promise<number> {
    return this.#exit;
  }

  close(): void {
    this.#sock.destroy();
  }

  /** Kill the helper (its init follows through PR_SET_PDEATHSIG) and close the channel. */
  kill(): void {
    try {
      this.child.kill('SIGKILL');
    } catch {
      // already gone
    }
    this.close();
  }
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

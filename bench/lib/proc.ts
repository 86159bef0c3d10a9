/**
 * Running peer commands and timing them. Every implementation is driven the same way: one
 * spawn from this process, timed with process.hrtime from just before spawn() to the child's
 * exit, so Node's own spawn cost is the same constant in every row.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface CmdResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn() to the child's exit, in milliseconds. */
  ms: number;
}

export interface CmdOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the child (SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
  /**
   * Resolve on the child's exit rather than on its stdio closing. `runc create` hands its
   * stdio to the container, which keeps the pipes open until it exits.
   */
  onExit?: boolean;
  stdin?: 'ignore' | 'pipe';
  input?: string;
}

/** Children still running, so that an interrupted run can stop them before cleaning up. */
const live = new Set<ChildProcess>();

/** SIGTERM every running child, SIGKILL what is left after `graceMs`; resolves when all exited. */
export async function stopChildren(graceMs = 3000): Promise<void> {
  const all = [...live];
  if (all.length === 0) return;
  const exited = all.map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r()))));
  for (const c of all) c.kill('SIGTERM');
  const timer = setTimeout(() => all.forEach((c) => c.kill('SIGKILL')), graceMs);
  await Promise.all(exited);
  clearTimeout(timer);
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function run(argv: readonly string[], opts: CmdOptions = {}): Promise<CmdResult> {
  return new Promise((resolve) => {
    const spawnOpts: SpawnOptions = {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: [opts.input !== undefined ? 'pipe' : (opts.stdin ?? 'ignore'), 'pipe', 'pipe'],
    };
    const t0 = nowMs();
    let ms = 0;
    let stdout = '';
    let stderr = '';
    let settled = false;
    const child = spawn(argv[0], argv.slice(1), spawnOpts);
    live.add(child);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => { if (stdout.length < 1 << 20) stdout += d; });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < 1 << 20) stderr += d; });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms });
    };
    child.on('error', (err) => {
      live.delete(child);
      ms = nowMs() - t0;
      stderr += String(err.message);
      finish(127, null);
    });
    child.on('exit', (code, signal) => {
      live.delete(child);
      ms = nowMs() - t0;
      if (opts.onExit) {
        // Give a failing child's last words a moment to arrive; a success needs none.
        if (code === 0) finish(code, signal);
        else setTimeout(() => finish(code, signal), 100);
      }
    });
    child.on('close', (code, signal) => finish(code, signal));
  });
}

/** Run, and throw a one-line error naming the command when it fails. */
export async function mustRun(argv: readonly string[], opts: CmdOptions = {}): Promise<CmdResult> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`${describe(argv)}: ${failureLine(r)}`);
  return r;
}

export function failureLine(r: CmdResult): string {
  const text = (r.stderr.trim() || r.stdout.trim()).split('\n').map((l) => l.trim()).filter(Boolean);
  const first = text[0] ?? '';
  const why = r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`;
  return first ? `${first} (${why})` : why;
}

export function describe(argv: readonly string[]): string {
  const s = argv.join(' ');
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** Block for a fraction of a millisecond without yielding to timers (their granularity is 1 ms). */
export function sleepSyncMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

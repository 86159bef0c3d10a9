/** Running commands in tests: a timeout, captured output and exit status, optional pty. */
import { spawn, type StdioOptions } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface ExecOptions {
  /** Written to stdin, then stdin is closed; without it stdin is /dev/null. */
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the whole process group with SIGKILL after this long (default 30 s). */
  timeoutMs?: number;
  /** Open fds of this process handed to the child as its fds 3, 4, ... */
  extraFds?: number[];
  /**
   * Files (appended to) for the child's stdout and stderr instead of pipes: for commands that
   * leave a process behind holding them (`create`, `run --detach`), which would keep a pipe
   * open. The result's stdout/stderr are what the files hold when the command exits.
   */
  stdioFiles?: { stdout: string; stderr: string };
}

export interface ExecResult {
  cmd: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/** Runs `cmd args` to completion. Never throws for a non-zero exit; see execOk. */
export function exec(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const started = Date.now();
  const files = opts.stdioFiles;
  const outFd = files ? openSync(files.stdout, 'a') : undefined;
  const errFd = files ? openSync(files.stderr, 'a') : undefined;
  const stdio: StdioOptions = [opts.input === undefined ? 'ignore' : 'pipe', outFd ?? 'pipe', errFd ?? 'pipe', ...(opts.extraFds ?? [])];
  const closeFiles = (): void => {
    if (outFd !== undefined) closeSync(outFd);
    if (errFd !== undefined) closeSync(errFd);
  };
  return new Promise((resolve, reject) => {
    // Own process group, so a timeout kills what the command started too.
    const child = spawn(cmd, args, { stdio, env: opts.env ?? process.env, cwd: opts.cwd, detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      closeFiles();
      reject(new Error(`exec ${cmd}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      closeFiles();
      resolve({
        cmd: [cmd, ...args].join(' '),
        code,
        signal,
        stdout: files ? readFileSync(files.stdout, 'utf8') : Buffer.concat(out).toString(),
        stderr: files ? readFileSync(files.stderr, 'utf8') : Buffer.concat(err).toString(),
        timedOut,
        ms: Date.now() - started,
      });
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input);
    }
  });
}

/** Like exec, but throws (with the command, status and stderr) unless it exits 0. */
export async function execOk(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await exec(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${describe(r)}`);
  return r;
}

/** One line for assertion messages: command, status, stderr and stdout tails. */
export function describe(r: ExecResult): string {
  const status = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  return `\`${r.cmd}\`: ${status}; stderr: ${r.stderr.trim().slice(-2000)}; stdout: ${r.stdout.trim().slice(-1000)}`;
}

/** POSIX shell quoting of one word. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs a command with a pty as its stdin/stdout/stderr, through script(1) from util-linux
 * (`-e` returns the child's exit status, `-q` drops script's own banner). The output has
 * the pty's CRLF line ends.
 */
export function execPty(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const line = [cmd, ...args].map(shellQuote).join(' ');
  return exec('script', ['-q', '-e', '-f', '-c', line, '/dev/null'], opts);
}

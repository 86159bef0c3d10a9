/**
 * A runc-compatible runtime driven through its command line, for conformance tests that must
 * pass against any such binary. Which one: env BERTH_TEST_RUNTIME (a name on PATH such as
 * `runc`, or a path), default the repo's bin/berth-runtime. Each instance has a private
 * `--root` state dir inside a scope.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { State } from '../../src/spec/runtime.js';
import { describe, exec, type ExecOptions, type ExecResult } from './exec.js';
import { repoRoot } from './fixtures.js';
import type { Scope } from './scope.js';

/** The runtime binary under test (absolute path when it is a path). */
export function runtimeBinary(): string {
  const env = process.env.BERTH_TEST_RUNTIME;
  if (env) return env;
  return join(repoRoot(), 'bin/berth-runtime');
}

/** Short name for messages and for tests that note a known runc difference. */
export function runtimeName(): string {
  const b = runtimeBinary();
  return b.slice(b.lastIndexOf('/') + 1);
}


export class RuntimeCli {
  readonly binary: string;
  readonly root: string;
  readonly scope: Scope;
  readonly #created = new Set<string>();

  /**
   * A runtime with its state under `<scope dir>/runtime-root-*`. The scope's cleanup
   * force-deletes every container this instance created that still exists.
   */
  constructor(scope: Scope, binary = runtimeBinary()) {
    this.scope = scope;
    this.binary = binary;
    this.root = join(scope.mkdtemp('runtime-root'), 'state');
    scope.defer(`delete containers of ${this.binary}`, () => this.deleteAll());
  }

  /** `<binary> --root <root> ...args`. */
  run(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.scope.assertOpen(`${this.binary} ${args[0]}`);
    const id = idOf(args);
    if (id) this.#created.add(id);
    return exec(this.binary, ['--root', this.root, ...args], opts);
  }

  /** Like run, but throws unless it exits 0. */
  async ok(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw new Error(describe(r));
    return r;
  }

  /**
   * `create`: the container's stdio (without a terminal) are files, so nothing waits on a pipe
   * the container holds; read them with output(id) / errorOutput(id).
   */
  create(id: string, bundle: string, extra: string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.run(['create', '--bundle', bundle, ...extra, id], { stdioFiles: this.stdioFiles(id), ...opts });
  }

  /** `run --detach`, stdio to files like create. */
  runDetached(id: string, bundle: string, extra: string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.run(['run', '--detach', '--bundle', bundle, ...extra, id], { stdioFiles: this.stdioFiles(id), ...opts });
  }

  /** `run` in the foreground with pipes: the result has the container's output and exit status. */
  runForeground(id: string, bundle: string, extra: string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.run(['run', '--bundle', bundle, ...extra, id], opts);
  }

  /**
   * Runs the bundle in the foreground (its args should run /checker) under a fresh id and
   * returns the parsed report; throws with the runtime's stderr unless it exits 0.
   */
  async report(bundle: string, extra: string[] = []): Promise<CheckerReport> {
    const r = await this.runForeground(this.scope.uid(), bundle, extra);
    if (r.code !== 0) throw new Error(describe(r));
    return parseReport(r.stdout);
  }

  /** Where the stdout/stderr of a detached container `id` go (one pair per id). */
  stdioFiles(id: string): { stdout: string; stderr: string } {
    mkdirSync(join(this.root, '..', 'io'), { recursive: true });
    return { stdout: join(this.root, '..', 'io', `${id}.out`), stderr: join(this.root, '..', 'io', `${id}.err`) };
  }

  /** What a detached container (and the runtime command that made it) wrote to stdout so far. */
  output(id: string): string {
    return readOr(this.stdioFiles(id).stdout);
  }

  errorOutput(id: string): string {
    return readOr(this.stdioFiles(id).stderr);
  }

  start(id: string): Promise<ExecResult> {
    return this.run(['start', id]);
  }

  async state(id: string): Promise<State> {
    const r = await this.ok(['state', id]);
    return JSON.parse(r.stdout) as State;
  }

  kill(id: string, signal = 'KILL', extra: string[] = []): Promise<ExecResult> {
    return this.run(['kill', ...extra, id, signal]);
  }

  delete(id: string, force = false): Promise<ExecResult> {
    return this.run(['delete', ...(force ? ['--force'] : []), id]);
  }

  /** Polls `state` until the status is `status` (or throws after timeoutMs). */
  async waitStatus(id: string, status: State['status'], timeoutMs = 10_000): Promise<State> {
    const deadline = Date.now() + timeoutMs;
    let last: State | undefined;
    for (;;) {
      last = await this.state(id);
      if (last.status === status) return last;
      if (Date.now() > deadline) throw new Error(`container ${id}: status ${last.status}, waited for ${status}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Ids in this root (`list --format json`); empty when the root does not exist yet. */
  async list(): Promise<{ id: string; status: string; pid: number; bundle: string }[]> {
    if (!existsSync(this.root)) return [];
    const r = await this.run(['list', '--format', 'json']);
    if (r.code !== 0) return [];
    return (JSON.parse(r.stdout || 'null') ?? []) as { id: string; status: string; pid: number; bundle: string }[];
  }

  /**
   * Force-deletes the containers this instance made or lists; then no state may be left in
   * the root under any of their ids (a runtime that keeps a container's state dir after
   * delete leaks it). Errors go to the caller.
   */
  async deleteAll(): Promise<void> {
    const ids = new Set(this.#created);
    for (const c of await this.list().catch(() => [])) ids.add(c.id);
    const failures: string[] = [];
    for (const id of ids) {
      const r = await exec(this.binary, ['--root', this.root, 'delete', '--force', id]);
      if (r.code !== 0 && !/not exist|not found|no such/i.test(r.stderr)) failures.push(describe(r));
    }
    const left = existsSync(this.root) ? readdirSync(this.root).filter((name) => [...ids].some((id) => name.includes(id))) : [];
    if (left.length) failures.push(`state left in ${this.root} after delete: ${left.join(', ')}`);
    if (failures.length) throw new Error(failures.join('\n'));
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The container id in a CLI call (the last positional of the verbs that take one). */
function idOf(args: string[]): string | undefined {
  const verb = args[0];
  if (!['create', 'run'].includes(verb)) return undefined;
  return args[args.length - 1];
}

/** Runs `checker` output through JSON.parse with a message that shows the raw text. */
export function parseReport<T = CheckerReport>(stdout: string): T {
  try {
    return JSON.parse(stdout) as T;
  } catch (err) {
    throw new Error(`checker output is not JSON: ${(err as Error).message}: ${stdout.slice(0, 500)}`);
  }
}

/** What `/checker` prints (see test/fixtures/checker.c). */
export interface CheckerReport {
  pid: number;
  ppid: number;
  uid: number;
  euid: number;
  gid: number;
  egid: number;
  groups: number[];
  umask: number;
  cwd: string | null;
  hostname: string;
  domainname: string;
  namespaces: Record<string, number>;
  capabilities: { CapInh: string; CapPrm: string; CapEff: string; CapBnd: string; CapAmb: string };
  noNewPrivs: number;
  seccomp: number;
  /** RLIM_INFINITY is -1. */
  rlimits: Record<string, { soft: number; hard: number }>;
  fds: { fd: number; target: string }[];
  mounts: CheckerMount[];
  cgroup: string[];
  env: string[];
  oomScoreAdj: number;
  tty: (string | null)[];
  paths: PathProbe[];
}

export interface CheckerMount {
  id: number;
  parent: number;
  dev: string;
  root: string;
  mountPoint: string;
  options: string;
  optional: string[];
  fstype: string;
  source: string;
  superOptions: string;
}

export interface PathProbe {
  path: string;
  exists: boolean;
  errno?: string | null;
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  rdev?: string;
  readable?: boolean;
  readErrno?: string | null;
  /** Which call failed: "open" (permissions, device cgroup) or "read" (the file itself). */
  readStep?: 'open' | 'read' | null;
  readCount?: number;
  writable?: boolean;
  writeErrno?: string | null;
}

/** Capability names in bit order (linux/capability.h), for decoding CapEff etc. */
export const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** Decodes a /proc/self/status capability mask ("00000000a80425fb") into sorted names. */
export function decodeCaps(hex: string): string[] {
  const mask = BigInt('0x' + (hex || '0'));
  return CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n).slice().sort();
}


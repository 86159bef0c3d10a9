import { execFile, spawn } from 'node:child_process';
import { existsSync, accessSync, constants } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../errors/index.js';
import * as rt from '../runtime/index.js';
import type { Resources } from '../spec/runtime.js';

/** The OCI state a runc-compatible `state` command prints (runtime-spec runtime.md#state). */
export interface RuntimeState {
  id: string;
  status: 'creating' | 'created' | 'running' | 'stopped' | 'paused';
  pid: number;
}

/**
 * How the engine reaches an OCI runtime: any runc-compatible binary and its --root. The
 * monitor runs `create`/`start` with `path` and `root`; the engine runs the other verbs.
 */
export interface RuntimeDriver {
  /** What the user named: "berth", "runc", "crun" or a path. */
  readonly name: string;
  /** The binary (or a wrapper script) the monitor and the engine run. */
  readonly path: string;
  /** The runtime's --root (its own state dir). */
  readonly root: string;
  state(id: string): Promise<RuntimeState | undefined>;
  kill(id: string, signal: string, all?: boolean): Promise<void>;
  delete(id: string, force?: boolean): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  update(id: string, resources: Resources): Promise<void>;
  /**
   * Start a created container from this process, when the driver can do it without a new
   * process (the built-in runtime); the monitor sees the exit as usual (docs/monitor.md).
   */
  startInProcess?(id: string): Promise<void>;
}

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'bin', 'berth-runtime')) && existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new BerthError('NOT_FOUND', 'find bin/berth-runtime: not found above the berth install');
    dir = up;
  }
}

function which(name: string): string | undefined {
  for (const d of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = join(d || '.', name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Run a runtime verb; rejects with the runtime's stderr as the message. */
function runVerb(path: string, root: string, args: string[], input?: string): Promise<string> {
  const action = `${args[0]} ${args[args.length - 1]}`;
  return new Promise((resolveP, reject) => {
    if (input === undefined) {
      execFile(path, ['--root', root, ...args], { maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
        if (err) return reject(runtimeFailure(action, stderr || err.message));
        resolveP(stdout);
      });
      return;
    }
    const child = spawn(path, ['--root', root, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let errText = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (errText += d));
    child.on('error', (e) => reject(BerthError.wrap(e, `run ${path}`)));
    child.on('close', (code) => (code === 0 ? resolveP(out) : reject(runtimeFailure(action, errText || `exit status ${code}`))));
    child.stdin.end(input);
  });
}

function runtimeFailure(action: string, text: string): BerthError {
  // runc-compatible runtimes print JSON log lines or plain text on stderr
  let msg = text.trim();
  for (const line of msg.split('\n')) {
    try {
      const j = JSON.parse(line) as { msg?: string };
      if (j.msg) msg = j.msg;
    } catch {
      /* plain text */
    }
  }
  const m = msg.toLowerCase();
  const code = m.includes('does not exist') || m.includes('not found') || m.includes('no such') ? 'NOT_FOUND' : 'FAILED_PRECONDITION';
  return new BerthError(code, `runtime ${action}: ${msg.split('\n').slice(-2).join('; ')}`);
}

/** A driver over any runc-compatible command line. */
export class CommandRuntimeDriver implements RuntimeDriver {
  readonly name: string;
  readonly path: string;
  readonly root: string;

  constructor(name: string, path: string, root: string) {
    this.name = name;
    this.path = path;
    this.root = root;
  }

  async state(id: string): Promise<RuntimeState | undefined> {
    try {
      return JSON.parse(await runVerb(this.path, this.root, ['state', id])) as RuntimeState;
    } catch (err) {
      if (err instanceof BerthError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  async kill(id: string, signal: string, all = false): Promise<void> {
    await runVerb(this.path, this.root, ['kill', ...(all ? ['--all'] : []), id, signal]);
  }

  async delete(id: string, force = false): Promise<void> {
    try {
      await runVerb(this.path, this.root, ['delete', ...(force ? ['--force'] : []), id]);
    } catch (err) {
      if (err instanceof BerthError && err.code === 'NOT_FOUND') return;
      throw err;
    }
  }

  async pause(id: string): Promise<void> {
    await runVerb(this.path, this.root, ['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await runVerb(this.path, this.root, ['resume', id]);
  }

  async update(id: string, resources: Resources): Promise<void> {
    await runVerb(this.path, this.root, ['update', '--resources', '-', id], JSON.stringify(resources));
  }
}

/**
 * berth's own runtime: the monitor runs `bin/berth-runtime` for create (and for restarts), and
 * the engine calls the same library in-process for the other verbs, which saves a Node start
 * (~50 ms) each: start, kill, delete, state, pause, update.
 */
export class BuiltinRuntimeDriver extends CommandRuntimeDriver {
  #ctx: rt.RuntimeContext | undefined;

  get #rt(): rt.RuntimeContext {
    return (this.#ctx ??= rt.newRuntimeContext(this.root));
  }

  override async state(id: string): Promise<RuntimeState | undefined> {
    try {
      return rt.containerState(this.#rt, id) as RuntimeState;
    } catch (err) {
      if (err instanceof BerthError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  override async kill(id: string, signal: string, all = false): Promise<void> {
    rt.killContainer(this.#rt, id, rt.parseSignal(signal), all);
  }

  override async delete(id: string, force = false): Promise<void> {
    await rt.deleteContainer(this.#rt, id, force);
  }

  override async pause(id: string): Promise<void> {
    rt.pauseContainer(this.#rt, id);
  }

  override async resume(id: string): Promise<void> {
    rt.resumeContainer(this.#rt, id);
  }

  override async update(id: string, resources: Resources): Promise<void> {
    rt.updateContainer(this.#rt, id, resources);
  }

  async startInProcess(id: string): Promise<void> {
    await rt.startContainer(this.#rt, id);
  }
}

/**
 * The driver for `--runtime`: "berth" (default, `<repo>/bin/berth-runtime`), "runc", "crun"
 * (through `bin/berth-crun`, which hides the hybrid cgroup layout crun refuses, see PEERS.md),
 * or a path to any runc-compatible binary. Each runtime keeps its own --root under the state dir.
 */
export function runtimeDriver(name: string | undefined, stateDir: string): RuntimeDriver {
  const n = name || process.env.BERTH_RUNTIME || 'berth';
  let path: string | undefined;
  let key = n;
  if (n === 'berth') path = join(repoRoot(), 'bin', 'berth-runtime');
  else if (n === 'crun') path = join(repoRoot(), 'bin', 'berth-crun');
  else if (n.includes('/')) {
    path = resolve(n);
    key = 'custom-' + Buffer.from(path).toString('hex').slice(-16);
  } else path = which(n);
  if (!path || !existsSync(path)) throw new BerthError('NOT_FOUND', `runtime ${JSON.stringify(n)}: not found (give runc, crun, berth or a path)`);
  const root = join(stateDir, 'runtime', key);
  return n === 'berth' ? new BuiltinRuntimeDriver(n, path, root) : new CommandRuntimeDriver(n, path, root);
}

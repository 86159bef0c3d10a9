import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../errors/index.js';
import type { Process, Spec } from '../../spec/runtime.js';
import { attach, killMonitor, startExec, waitExit, type MonitorAttach } from '../monitor/index.js';
import type { Engine } from '../engine.js';
import { mergeEnv } from '../spec-builder.js';
import { ALL_CAPABILITIES } from '../defaults.js';
import { limitToHostCapabilities } from './create.js';
import { resolveUser } from '../user.js';
import { refreshContainer } from './status.js';

export interface ExecOptions {
  /** The command and its arguments (no shell). */
  cmd: string[];
  /** `-e KEY=VALUE`, on top of the container's environment. */
  env?: string[];
  /** `-u user[:group]`, resolved in the container's /etc/passwd; default: the container's user. */
  user?: string;
  /** `-w DIR`; default: the container's working directory. */
  workdir?: string;
  /** `-t`: a pty. */
  tty?: boolean;
  /** `-i`: keep stdin open (fed through the attach). */
  stdin?: boolean;
  /** `--privileged`: every capability of the container's bounding set. */
  privileged?: boolean;
  /** `-d`: start at once, nobody attaches. */
  detach?: boolean;
  /** Initial pty size (rows, cols): sent before the process starts. */
  size?: { rows: number; cols: number };
}

export interface ExecSession {
  /** Exec id (docker's 64 hex digits). */
  id: string;
  /** The exec monitor's state dir (exit file, attach socket). */
  stateDir: string;
  /** Present unless detached: the started process's I/O; the caller reads and destroys it. */
  attach?: MonitorAttach;
  /** Host pid of the exec'd process. */
  pid: number;
}

/**
 * Where an exec's monitor lives: inside the container's state dir, so `rm` removes it with the
 * bundle. Short (`x-` + 8 hex digits): `attach.sock` must still fit in sun_path (unix(7)).
 */
export function execStateDir(engine: Engine, containerId: string, execId: string): string {
  return join(engine.paths(containerId).dir, `x-${execId.slice(0, 8)}`);
}

/** The runtime-spec process of an exec: the container's own, with the exec's overrides. */
export function execProcess(spec: Spec, rootfs: string, opts: ExecOptions): Process {
  const base = spec.process;
  if (!base) throw new BerthError('FAILED_PRECONDITION', 'the container\'s config.json has no process');
  let user = base.user;
  if (opts.user) {
    const u = resolveUser(rootfs, opts.user);
    user = { uid: u.uid, gid: u.gid, ...(u.additionalGids.length ? { additionalGids: u.additionalGids } : {}) };
  }
  let caps = base.capabilities ? { ...base.capabilities } : undefined;
  if (opts.privileged) {
    // docker exec --privileged: every capability (as run --privileged), limited to ours
    const all = [...ALL_CAPABILITIES] as string[];
    const s = { process: { capabilities: { bounding: all, effective: all, permitted: all, inheritable: all } } } as unknown as Spec;
    limitToHostCapabilities(s);
    caps = s.process!.capabilities;
  }
  const proc: Process = {
    terminal: !!opts.tty,
    user,
    args: opts.cmd,
    env: mergeEnv(base.env, opts.env),
    cwd: opts.workdir || base.cwd || '/',
    ...(caps ? { capabilities: caps } : {}),
    ...(base.rlimits ? { rlimits: base.rlimits } : {}),
    ...(base.noNewPrivileges !== undefined ? { noNewPrivileges: opts.privileged ? false : base.noNewPrivileges } : {}),
    ...(base.apparmorProfile ? { apparmorProfile: base.apparmorProfile } : {}),
    ...(base.selinuxLabel ? { selinuxLabel: base.selinuxLabel } : {}),
  };
  if (opts.tty && opts.size) proc.consoleSize = { height: opts.size.rows, width: opts.size.cols };
  return proc;
}

/**
 * docker exec: run one more process in a running container through an exec monitor
 * (docs/monitor.md "Exec sessions"): `<runtime> exec --detach --process`, with pipes or a pty
 * held by the monitor, the exit status in the exec's own `exit` file. Attached, the caller
 * gets the I/O before the process starts (no output lost); detached it starts at once.
 */
export async function execContainer(engine: Engine, ref: string, opts: ExecOptions, execId?: string): Promise<ExecSession> {
  const rec = refreshContainer(engine, engine.containers.find(ref));
  const what = `exec in container ${JSON.stringify(rec.name)}`;
  if (!opts.cmd.length) throw new BerthError('INVALID_ARGUMENT', `${what}: no command given`);
  if (rec.state.status === 'paused') throw new BerthError('CONFLICT', `${what}: container ${rec.id} is paused, unpause the container before exec`);
  if (rec.state.status !== 'running') throw new BerthError('CONFLICT', `${what}: container ${rec.id} is not running`);
  // a privileged exec may change the network namespace: it must not serve another container
  if (opts.privileged) engine.network?.taint?.(rec.id);
  const paths = engine.paths(rec.id);
  let spec: Spec;
  try {
    spec = JSON.parse(readFileSync(paths.config, 'utf8')) as Spec;
  } catch (err) {
    throw BerthError.wrap(err, `${what}: read its config.json`);
  }
  const process = execProcess(spec, paths.rootfs, opts);
  const id = execId ?? randomBytes(32).toString('hex');
  const stateDir = execStateDir(engine, rec.id, id);
  const driver = engine.runtime(rec.config.runtime);
  const handle = await startExec({
    id: rec.id,
    process,
    runtimePath: driver.path,
    runtimeRoot: driver.root,
    stateDir,
    terminal: !!opts.tty,
    stdin: !!opts.stdin,
    start: !!opts.detach,
  });
  engine.containerEvent(rec, `exec_start: ${opts.cmd.join(' ')}`, { execID: id });
  if (opts.detach) return { id, stateDir, pid: handle.containerPid };
  let a: MonitorAttach | undefined;
  try {
    a = await attach(stateDir, `${rec.name} exec`);
    if (opts.tty && opts.size) a.resize(opts.size.rows, opts.size.cols);
    const pid = await a.start();
    return { id, stateDir, attach: a, pid };
  } catch (err) {
    a?.destroy();
    // the exec's monitor would wait for another START: stop it and let it finish
    killMonitor(stateDir);
    await waitExit(stateDir, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
    throw BerthError.wrap(err, what);
  }
}

/** Forget an exec once its exit was seen (its monitor removed its socket and pid file). */
export function removeExecState(stateDir: string): void {
  rmSync(stateDir, { recursive: true, force: true });
}

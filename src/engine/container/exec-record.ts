import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../errors/index.js';
import { writeFileAtomic } from '../../util/fs.js';
import { monitorPid, readExit } from '../monitor/index.js';
import type { ContainerRecord } from '../containers/store.js';
import type { Engine } from '../engine.js';
import { removeExecState, type ExecOptions } from './exec.js';
import { refreshContainer } from './status.js';
import { randomBytes } from 'node:crypto';

/**
 * An exec instance (docker's: made by POST /containers/{id}/exec, run once by
 * /exec/{id}/start, inspected by /exec/{id}/json). Kept as `exec-<id>.json` in the
 * container's state dir, so a restarted daemon still answers for it and `rm` removes it with
 * the bundle; the exit status comes from the exec monitor's exit file.
 */
export interface ExecRecord {
  id: string;
  containerId: string;
  opts: ExecOptions;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  started: boolean;
  running: boolean;
  exitCode: number | null;
  pid: number;
  /** The exec monitor's dir while the process may run (exit file, attach socket). */
  stateDir?: string;
  created: string;
}

function recordPath(engine: Engine, containerId: string, id: string): string {
  return join(engine.paths(containerId).dir, `exec-${id}.json`);
}

function save(engine: Engine, rec: ExecRecord): ExecRecord {
  writeFileAtomic(recordPath(engine, rec.containerId, rec.id), JSON.stringify(rec), 0o600);
  return rec;
}

/** docker's exec event action: `exec_create: sh -c true`. */
function execEvent(engine: Engine, c: ContainerRecord, action: string, rec: ExecRecord, extra: Record<string, string> = {}): void {
  engine.containerEvent(c, `${action}: ${rec.opts.cmd.join(' ')}`, { execID: rec.id, ...extra });
}

/** Record a new exec instance of a running container (nothing runs yet). */
export function createExec(engine: Engine, ref: string, opts: ExecOptions, attach: { stdin: boolean; stdout: boolean; stderr: boolean }): ExecRecord {
  const c = refreshContainer(engine, engine.containers.find(ref));
  if (!opts.cmd.length) throw new BerthError('INVALID_ARGUMENT', 'exec: no command specified');
  if (c.state.status === 'paused') throw new BerthError('CONFLICT', `Container ${c.id} is paused, unpause the container before exec`);
  if (c.state.status !== 'running') throw new BerthError('CONFLICT', `Container ${c.id} is not running`);
  const rec = save(engine, {
    id: randomBytes(32).toString('hex'),
    containerId: c.id,
    opts,
    attachStdin: attach.stdin,
    attachStdout: attach.stdout,
    attachStderr: attach.stderr,
    started: false,
    running: false,
    exitCode: null,
    pid: 0,
    created: new Date().toISOString(),
  });
  execEvent(engine, c, 'exec_create', rec);
  return rec;
}

/** An exec instance by id, its status refreshed from its monitor's files. */
export function findExec(engine: Engine, id: string): ExecRecord {
  for (const c of engine.containers.list()) {
    const dir = engine.paths(c.id).dir;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    if (!names.includes(`exec-${id}.json`)) continue;
    const rec = JSON.parse(readFileSync(join(dir, `exec-${id}.json`), 'utf8')) as ExecRecord;
    return refreshExec(engine, rec);
  }
  throw new BerthError('NOT_FOUND', `No such exec instance: ${id}`);
}

/** Apply a change to an exec instance and store it. */
export function updateExec(engine: Engine, rec: ExecRecord, change: Partial<ExecRecord>): ExecRecord {
  return save(engine, { ...rec, ...change });
}

/**
 * A running exec whose monitor wrote its exit file (or is gone) is finished: record the exit
 * code, drop the monitor's dir, and say exec_die once (the process that flips `running`).
 */
export function refreshExec(engine: Engine, rec: ExecRecord): ExecRecord {
  if (!rec.running || !rec.stateDir) return rec;
  const st = readExit(rec.stateDir);
  if (!st && monitorPid(rec.stateDir) !== undefined) return rec;
  const exit = st ?? readExit(rec.stateDir);
  return finishExec(engine, rec, exit ? exit.exitCode : (rec.exitCode ?? 126));
}

/** The exec's process ended with `exitCode`. */
export function finishExec(engine: Engine, rec: ExecRecord, exitCode: number): ExecRecord {
  if (!rec.running) return rec;
  const { stateDir, ...rest } = rec;
  const done = save(engine, { ...rest, running: false, exitCode });
  if (stateDir) removeExecState(stateDir);
  const c = engine.containers.tryFind(rec.containerId);
  if (c) execEvent(engine, c, 'exec_die', done, { exitCode: String(exitCode) });
  return done;
}

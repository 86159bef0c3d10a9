import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../errors/index.js';
import { writeFileAtomic } from '../util/fs.js';
import { CONTAINER_ID_RE } from '../util/id.js';
import type { Spec, State, Status } from '../spec/runtime.js';

export const OCI_VERSION = '1.2.0';

/** What the runtime keeps per container in `<root>/<id>/state.json`. */
export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  pid: number;
  /** Field 22 of /proc/PID/stat at create: tells our init from a recycled pid. */
  pidStartTime: string;
  cgroupPath: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** Set once `start` has released the init. */
  started?: boolean;
}

export function checkId(id: string | undefined): string {
  if (!id) throw new BerthError('INVALID_ARGUMENT', 'container id cannot be empty');
  if (!CONTAINER_ID_RE.test(id) || id === '.' || id === '..') {
    throw new BerthError('INVALID_ARGUMENT', `invalid container id ${JSON.stringify(id)}: use letters, digits, _ + - .`);
  }
  return id;
}

/** The runtime's state directory (`--root`), one sub-directory per container. */
export class StateRoot {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  containerDir(id: string): string {
    return join(this.dir, checkId(id));
  }

  /** Claim an id: mkdir is atomic, so two concurrent creates of one id cannot both win. */
  claim(id: string): string {
    const dir = this.containerDir(id);
    mkdirSync(this.dir, { recursive: true, mode: 0o711 });
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new BerthError('ALREADY_EXISTS', `container ${JSON.stringify(id)} already exists`);
      }
      throw err;
    }
    return dir;
  }

  release(id: string): void {
    rmSync(this.containerDir(id), { recursive: true, force: true });
  }

  ids(): string[] {
    try {
      return readdirSync(this.dir).filter((n) => existsSync(join(this.dir, n, 'state.json'))).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  save(rec: ContainerRecord): void {
    writeFileAtomic(join(this.containerDir(rec.id), 'state.json'), JSON.stringify(rec));
  }

  saveSpec(id: string, spec: Spec): void {
    writeFileAtomic(join(this.containerDir(id), 'config.json'), JSON.stringify(spec));
  }

  /** The record of an existing container; NOT_FOUND naming the id otherwise. */
  load(id: string): ContainerRecord {
    let text: string;
    try {
      text = readFileSync(join(this.containerDir(id), 'state.json'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new BerthError('NOT_FOUND', `container ${JSON.stringify(id)} does not exist`);
      }
      throw err;
    }
    return JSON.parse(text) as ContainerRecord;
  }

  loadSpec(id: string): Spec {
    return JSON.parse(readFileSync(join(this.containerDir(id), 'config.json'), 'utf8')) as Spec;
  }
}

/** Field 22 (starttime) of /proc/PID/stat, or undefined when the process is gone. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); a zombie has exited.
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
  return rest[19];
}

/** Whether the container's init is still the process we started (not a recycled pid). */
export function initAlive(rec: ContainerRecord): boolean {
  return rec.pid > 0 && processStartTime(rec.pid) === rec.pidStartTime;
}

export function execFifoPath(containerDir: string): string {
  return join(containerDir, 'exec.fifo');
}

/**
 * The OCI status, derived from the kernel rather than stored: a dead init is stopped, an init
 * still waiting at the exec fifo is created, a frozen cgroup is paused.
 */
export function deriveStatus(rec: ContainerRecord, isFrozen: () => boolean): Status {
  if (!initAlive(rec)) return 'stopped';
  if (!rec.started) return 'created';
  if (isFrozen()) return 'paused';
  return 'running';
}

export function ociState(rec: ContainerRecord, status: Status): State & { rootfs: string; created: string; owner: string } {
  const s: State & { rootfs: string; created: string; owner: string } = {
    ociVersion: OCI_VERSION,
    id: rec.id,
    pid: status === 'stopped' ? 0 : rec.pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
  };
  if (rec.annotations && Object.keys(rec.annotations).length) s.annotations = rec.annotations;
  return s;
}

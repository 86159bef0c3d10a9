/**
 * The in-flight journal: a server killed in the middle of a `create` (or `run`) leaves a
 * claimed state dir and the container's cgroups (its helper, the caller's process, kills the
 * init when the connection drops). Each such call is written down beside the socket while it
 * runs; the next server sweeps the entries of servers that are gone.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openCgroups, resolveCgroupsPath } from '../../sys/cgroup/index.js';
import type { Spec } from '../../spec/runtime.js';
import type { RuntimeRequest } from './protocol.js';

/** Global flags of the runc-style command that take a value (src/cli/runtime/index.ts). */
const GLOBAL_VALUE = new Set(['root', 'log', 'log-format', 'criu', 'rootless']);
/** create/run flags that take a value (src/cli/runtime/create.ts). */
const CREATE_VALUE = new Set(['bundle', 'b', 'console-socket', 'pid-file', 'preserve-fds']);
const DEFAULT_ROOT = '/run/berth-runtime';

interface Entry {
  root: string;
  id: string;
}

/** The state root and id a create/run request claims, or undefined for any other call. */
export function claimOf(req: RuntimeRequest): Entry | undefined {
  const a = req.argv;
  let root = DEFAULT_ROOT;
  let i = 0;
  for (; i < a.length && a[i].startsWith('-'); i++) {
    const [k, v] = split(a[i]);
    const val = v ?? (GLOBAL_VALUE.has(k) ? a[++i] : undefined);
    if (k === 'root' && val !== undefined) root = resolve(req.cwd, val);
  }
  if (a[i] !== 'create' && a[i] !== 'run') return undefined;
  for (i++; i < a.length; i++) {
    if (a[i] === '--') return a[i + 1] ? { root, id: a[i + 1] } : undefined;
    if (!a[i].startsWith('-') || a[i] === '-') return { root, id: a[i] };
    const [k, v] = split(a[i]);
    if (v === undefined && CREATE_VALUE.has(k)) i++;
  }
  return undefined;
}

function split(flag: string): [string, string | undefined] {
  const body = flag.replace(/^--?/, '');
  const eq = body.indexOf('=');
  return eq < 0 ? [body, undefined] : [body.slice(0, eq), body.slice(eq + 1)];
}

/** The journal of one server: entries named <pid>-<start time>-<n>. */
export class InflightJournal {
  readonly dir: string;
  #self: string;
  #n = 0;

  constructor(dir: string) {
    this.dir = dir;
    this.#self = `${process.pid}-${startTime(process.pid)}`;
  }

  /** Note a request that claims a container; returns the undo for when it is answered. */
  note(req: RuntimeRequest): () => void {
    const claim = claimOf(req);
    if (!claim || !/^[A-Za-z0-9_+.-]+$/.test(claim.id)) return () => {};
    const file = join(this.dir, `${this.#self}-${++this.#n}`);
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeFileSync(file, JSON.stringify(claim));
    } catch {
      return () => {};
    }
    return () => rmSync(file, { force: true });
  }

  /**
   * Undo what dead servers left: for each of their entries whose container never got its
   * state saved, destroy the cgroups (killing what is inside) and remove the state dir.
   */
  sweep(log: (m: string) => void): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const m = /^(\d+)-(\d*)-\d+$/.exec(name);
      if (!m || startTime(Number(m[1])) === m[2]) continue; // its server still runs
      const file = join(this.dir, name);
      try {
        const e = JSON.parse(readFileSync(file, 'utf8')) as Entry;
        const dir = join(e.root, e.id);
        if (existsSync(dir) && !existsSync(join(dir, 'state.json'))) {
          log(`sweep: half-created container ${JSON.stringify(e.id)} in ${e.root}`);
          let spec: Spec | undefined;
          try {
            spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Spec;
          } catch {
            // claimed, spec not saved yet: no cgroup either
          }
          if (spec) openCgroups(resolveCgroupsPath(spec.linux?.cgroupsPath, e.id)).destroy();
          rmSync(dir, { recursive: true, force: true });
        }
        rmSync(file, { force: true });
      } catch (err) {
        log(`sweep ${name}: ${(err as Error).message}`);
      }
    }
  }
}

/**
 * Field 22 of /proc/PID/stat: a pid with its start time names one process. "" when it is gone
 * or a zombie (a killed server stays one until pid 1 reaps it, which takes seconds here).
 */
function startTime(pid: number): string {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return f[0] === 'Z' || f[0] === 'X' ? '' : (f[19] ?? '');
  } catch {
    return '';
  }
}

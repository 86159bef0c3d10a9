import { BerthError } from '../../errors/index.js';
import type { ContainerRecord } from '../containers/store.js';
import type { Engine } from '../engine.js';
import { refreshContainer } from './status.js';
import { withHealth } from './health.js';

export interface ListOptions {
  /** Stopped containers too (docker ps -a). */
  all?: boolean;
  /** docker's filters: status, name, id, label (key or key=value), ancestor, exited. */
  filters?: string[];
  /** Remove exited `--rm` containers found on the way (their `run -d` CLI is long gone). */
  reapAutoRemove?: (rec: ContainerRecord) => Promise<void>;
}

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

function parseFilters(filters: string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new BerthError('INVALID_ARGUMENT', `bad format of filter (expected name=value): ${f}`);
    const key = f.slice(0, eq);
    const value = f.slice(eq + 1);
    if (!['status', 'name', 'id', 'label', 'ancestor', 'exited'].includes(key)) throw new BerthError('INVALID_ARGUMENT', `invalid filter '${key}'`);
    if (key === 'status' && !STATUSES.includes(value)) {
      throw new BerthError('INVALID_ARGUMENT', `invalid filter 'status=${value}': use one of ${STATUSES.join(', ')}`);
    }
    if (key === 'exited' && !/^-?\d+$/.test(value)) throw new BerthError('INVALID_ARGUMENT', `invalid filter 'exited=${value}': an exit code`);
    m.set(key, [...(m.get(key) ?? []), value]);
  }
  return m;
}

function matchAncestor(rec: ContainerRecord, want: string): boolean {
  const id = rec.imageId.replace(/^sha256:/, '');
  const w = want.replace(/^sha256:/, '');
  if (/^[0-9a-f]{4,64}$/.test(w) && id.startsWith(w)) return true;
  const strip = (s: string) => s.replace(/:latest$/, '');
  return rec.image === want || strip(rec.image) === strip(want) || strip(rec.image).endsWith(`/${strip(want)}`);
}

/** docker ps: newest first, each with its status refreshed from disk; filters ANDed across keys, ORed within one. */
export async function listContainers(engine: Engine, opts: ListOptions = {}): Promise<ContainerRecord[]> {
  const filters = parseFilters(opts.filters ?? []);
  const out: ContainerRecord[] = [];
  for (const r0 of engine.containers.list()) {
    const rec = withHealth(engine, refreshContainer(engine, r0));
    if (opts.reapAutoRemove && rec.config.autoRemove && rec.state.status === 'exited') {
      await opts.reapAutoRemove(rec).catch(() => {});
      continue;
    }
    const st = rec.state.status;
    const hasStatus = filters.has('status') || filters.has('exited');
    if (!opts.all && !hasStatus && st !== 'running' && st !== 'paused' && st !== 'restarting') continue;
    const ok = [...filters].every(([key, values]) =>
      values.some((v) => {
        switch (key) {
          case 'status':
            return st === v;
          case 'name':
            return new RegExp(v).test(rec.name);
          case 'id':
            return rec.id.startsWith(v);
          case 'label': {
            const eq = v.indexOf('=');
            return eq < 0 ? v in rec.labels : rec.labels[v.slice(0, eq)] === v.slice(eq + 1);
          }
          case 'ancestor':
            return matchAncestor(rec, v);
          case 'exited':
            return st === 'exited' && rec.state.exitCode === Number(v);
          default:
            return false;
        }
      }),
    );
    if (ok) out.push(rec);
  }
  return out;
}

/** docker's Status column: "Up 3 seconds", "Exited (0) 2 minutes ago", "Created". */
export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.state;
  switch (s.status) {
    case 'running':
      return `Up ${humanDuration(now - Date.parse(s.startedAt))}${s.health ? ` (${s.health.status === 'starting' ? 'health: starting' : s.health.status})` : ''}`;
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(s.startedAt))} (Paused)`;
    case 'restarting':
      return `Restarting (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'exited':
      return `Exited (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'created':
      return 'Created';
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
  }
}

/** docker's units.HumanDuration. */
export function humanDuration(ms: number): string {
  const sec = Math.max(0, Math.round((Number.isFinite(ms) ? ms : 0) / 1000));
  if (sec < 1) return 'Less than a second';
  if (sec === 1) return '1 second';
  if (sec < 60) return `${sec} seconds`;
  const min = Math.round(sec / 60);
  if (min === 1) return 'About a minute';
  if (min < 60) return `${min} minutes`;
  const h = Math.round(sec / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.round(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.round(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.round(h / 24 / 30)} months`;
  return `${Math.round(h / 24 / 365)} years`;
}

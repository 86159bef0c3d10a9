import { BerthError } from '../../errors/index.js';
import type { EngineEvent } from './types.js';

/**
 * docker's event filters (`docker events --filter`): type, event (action, also the prefix
 * of `exec_start: sh`-style actions), container (id prefix or name), image, volume, network
 * (id or name), label (key or key=value). Values of one key are ORed, keys are ANDed.
 */
export function eventMatches(e: EngineEvent, filters: Map<string, string[]>): boolean {
  for (const [k, vals] of filters) {
    const ok = vals.some((v) => {
      switch (k) {
        case 'type':
          return e.type === v;
        case 'event':
          return e.action === v || e.action.startsWith(`${v}:`);
        case 'container':
          return e.type === 'container' && (e.id.startsWith(v) || e.attributes.name === v || e.attributes.name === v.replace(/^\//, ''));
        case 'image':
          return e.attributes.image === v || (e.type === 'image' && (e.id === v || e.attributes.name === v));
        case 'volume':
          return e.type === 'volume' && e.id === v;
        case 'network':
          return e.type === 'network' && (e.id === v || e.id.startsWith(v) || e.attributes.name === v);
        case 'label': {
          const i = v.indexOf('=');
          return i < 0 ? v in e.attributes : e.attributes[v.slice(0, i)] === v.slice(i + 1);
        }
        default:
          return true;
      }
    });
    if (!ok) return false;
  }
  return true;
}

/** `key=value` strings (the CLI's repeated --filter) into a map of values per key. */
export function parseEventFilters(list: string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const f of list) {
    const i = f.indexOf('=');
    if (i <= 0) throw new BerthError('INVALID_ARGUMENT', `bad format of filter (expected name=value): ${JSON.stringify(f)}`);
    const k = f.slice(0, i);
    if (!['type', 'event', 'container', 'image', 'volume', 'network', 'label', 'scope', 'daemon', 'plugin', 'node', 'service', 'config', 'secret'].includes(k)) {
      throw new BerthError('INVALID_ARGUMENT', `invalid filter ${JSON.stringify(k)}`);
    }
    m.set(k, [...(m.get(k) ?? []), f.slice(i + 1)]);
  }
  return m;
}

/**
 * A `--since`/`--until` value as docker reads it, in ms since the epoch: unix seconds (with a
 * fraction), an RFC 3339 date or time, or a Go duration back from `now` ("10m", "1h30m", "2.5s").
 */
export function parseEventTime(s: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s)) {
    const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
    let ms = 0;
    for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * unit[m[2]];
    return now - ms;
  }
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new BerthError('INVALID_ARGUMENT', `invalid time ${JSON.stringify(s)}: want unix seconds, RFC 3339 or a duration such as 10m`);
  return t;
}

import { BerthError } from '../../errors/index.js';

/**
 * A small argv parser with the rules of runc's command line (Go's flag package): `--flag v`,
 * `--flag=v`, `-flag v`, single-letter aliases, repeatable flags, booleans that take an
 * optional `=true|false`. Hand-written because every runtime call pays for its start-up.
 */
export interface FlagSpec {
  name: string;
  alias?: string;
  value?: boolean;
  repeat?: boolean;
}

export interface Parsed {
  flags: Map<string, string[]>;
  positional: string[];
}

export function parseArgs(argv: string[], specs: FlagSpec[], opts: { stopAtPositional?: boolean; what: string }): Parsed {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(s.name, s);
    if (s.alias) byName.set(s.alias, s);
  }
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.length < 2 || a[0] !== '-') {
      // `exec ID CMD ARGS...`: everything from the first positional on is kept verbatim
      if (opts.stopAtPositional) {
        positional.push(...argv.slice(i));
        break;
      }
      positional.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const key = eq >= 0 ? body.slice(0, eq) : body;
    const spec = byName.get(key);
    if (!spec) throw new BerthError('INVALID_ARGUMENT', `${opts.what}: flag provided but not defined: -${key}`);
    let value: string;
    if (spec.value) {
      if (eq >= 0) value = body.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new BerthError('INVALID_ARGUMENT', `${opts.what}: flag needs an argument: -${key}`);
    } else {
      value = eq >= 0 ? body.slice(eq + 1) : 'true';
      if (value !== 'true' && value !== 'false') {
        throw new BerthError('INVALID_ARGUMENT', `${opts.what}: invalid boolean value ${JSON.stringify(value)} for -${key}`);
      }
    }
    const list = flags.get(spec.name) ?? [];
    if (spec.repeat) list.push(value);
    else list.splice(0, list.length, value);
    flags.set(spec.name, list);
  }
  return { flags, positional };
}

export function str(p: Parsed, name: string): string | undefined {
  return p.flags.get(name)?.at(-1);
}

export function bool(p: Parsed, name: string): boolean {
  return str(p, name) === 'true';
}

export function list(p: Parsed, name: string): string[] {
  return p.flags.get(name) ?? [];
}

export function int(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new BerthError('INVALID_ARGUMENT', `invalid value ${JSON.stringify(v)} for --${name}: not an integer`);
  return Number(v);
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Bytes as docker's units.RAMInBytes reads them: "512", "100m", "1.5g", "-1". */
export function bytes(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (v === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(v.trim());
  if (!m) throw new BerthError('INVALID_ARGUMENT', `invalid size ${JSON.stringify(v)} for --${name}`);
  return Math.round(Number(m[1]) * UNITS[m[2].toLowerCase()]);
}

/** Exactly `n` positional arguments, named in the usage message. */
export function need(p: Parsed, names: string[], what: string): string[] {
  if (p.positional.length < names.length) {
    throw new BerthError('INVALID_ARGUMENT', `${what}: missing argument: ${names.slice(p.positional.length).join(' ')}`);
  }
  return p.positional;
}

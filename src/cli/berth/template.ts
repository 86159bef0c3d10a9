import { BerthError } from '../../errors/index.js';

/**
 * The part of Go's text/template that `--format` uses in practice: `{{.Field}}`,
 * `{{.Field.Sub}}`, `{{json .}}`, `{{json .Field}}`, `{{.Label "key"}}`, `{{upper ...}}`/`{{lower ...}}`,
 * and a leading `table` (column headers, tab-aligned). `\t` and `\n` escapes as docker reads them.
 */
export interface Template {
  table: boolean;
  render(obj: Record<string, unknown>): string;
  header(): string;
}

function lookup(obj: unknown, path: string): unknown {
  if (path === '.') return obj;
  let cur: unknown = obj;
  for (const k of path.replace(/^\./, '').split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function show(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'object') return Array.isArray(v) ? `[${v.map(show).join(' ')}]` : `map[${Object.entries(v as object).map(([k, x]) => `${k}:${show(x)}`).join(' ')}]`;
  return String(v);
}

function evalAction(action: string, obj: Record<string, unknown>): string {
  const a = action.trim();
  let m = /^json\s+(\.[\w.]*|\.)$/.exec(a);
  if (m) return JSON.stringify(lookup(obj, m[1]) ?? null);
  m = /^(upper|lower)\s+(\.[\w.]*)$/.exec(a);
  if (m) return m[1] === 'upper' ? show(lookup(obj, m[2])).toUpperCase() : show(lookup(obj, m[2])).toLowerCase();
  m = /^\.Label\s+"([^"]*)"$/.exec(a);
  if (m) return String(((obj.LabelsMap ?? {}) as Record<string, string>)[m[1]] ?? '');
  m = /^(\.[\w.]*|\.)$/.exec(a);
  if (m) return show(lookup(obj, m[1]));
  throw new BerthError('INVALID_ARGUMENT', `template: unsupported action {{${action}}}`);
}

export function parseTemplate(format: string): Template {
  let f = format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const table = /^table\s/.test(f) || f === 'table';
  if (table) f = f.replace(/^table\s*/, '');
  const render = (obj: Record<string, unknown>) => f.replace(/\{\{(.*?)\}\}/g, (_, a: string) => evalAction(a, obj));
  const header = () =>
    f.replace(/\{\{(.*?)\}\}/g, (_, a: string) => {
      const m = /^\s*\.(\w+)\s*$/.exec(a);
      if (!m) return '';
      return HEADERS[m[1]] ?? m[1].replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
    });
  return { table, render, header };
}

const HEADERS: Record<string, string> = { ID: 'CONTAINER ID', Names: 'NAMES', RunningFor: 'CREATED', CreatedAt: 'CREATED AT' };

/** Lay out tab-separated lines as aligned columns (Go's tabwriter with padding 3). */
export function alignColumns(lines: string[]): string {
  const rows = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd()).join('\n') + (rows.length ? '\n' : '');
}

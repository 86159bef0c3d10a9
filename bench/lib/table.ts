/** Renders cases as plain-text tables (terminal) and as Markdown (docs/benchmarks.md). */
import { ratio, summarize, type Case, type Row } from './result.js';

export function fmtMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

interface Cells {
  impl: string;
  median: string;
  p90: string;
  min: string;
  n: string;
  ratio: string;
  status: string;
}

function cells(c: Case, row: Row): Cells {
  const s = summarize(row.samples);
  const r = ratio(c, row);
  let status = row.status === 'ok' ? (row.note ?? '') : `${row.status}: ${row.reason ?? ''}`;
  if (row.status === 'ok' && row.reference) status = status ? `reference; ${status}` : 'reference (overhead)';
  return {
    impl: row.impl,
    median: row.status === 'ok' && s ? fmtMs(s.median) : '-',
    p90: row.status === 'ok' && s ? fmtMs(s.p90) : '-',
    min: row.status === 'ok' && s ? fmtMs(s.min) : '-',
    n: row.status === 'ok' && s ? String(s.n) : '-',
    ratio: r === undefined ? '-' : `${r.toFixed(2)}x`,
    status,
  };
}

const HEAD: Cells = { impl: 'implementation', median: 'median', p90: 'p90', min: 'min', n: 'n', ratio: `berth/peer`, status: 'note' };
const KEYS: (keyof Cells)[] = ['impl', 'median', 'p90', 'min', 'n', 'ratio', 'status'];

export function renderText(cases: readonly Case[]): string {
  const out: string[] = [];
  for (const c of cases) {
    out.push('', `${c.suite} / ${c.name}  (${c.unit}; ratio = ${c.subject} median / peer median)`);
    const rows = [HEAD, ...c.rows.map((r) => cells(c, r))];
    const width = KEYS.map((k) => Math.max(...rows.map((r) => r[k].length)));
    for (const [i, r] of rows.entries()) {
      out.push(
        '  ' +
          KEYS.map((k, j) => (j === 0 || j === KEYS.length - 1 ? r[k].padEnd(width[j]) : r[k].padStart(width[j])))
            .join('  ')
            .trimEnd(),
      );
      if (i === 0) out.push('  ' + width.map((w) => '-'.repeat(w)).join('  '));
    }
    for (const n of c.notes) out.push(`  note: ${n}`);
  }
  return out.join('\n');
}

export function renderMarkdown(cases: readonly Case[]): string {
  const out: string[] = [];
  for (const c of cases) {
    out.push('', `**${c.suite} / ${c.name}** (${c.unit}; ratio = ${c.subject} / peer)`, '');
    out.push('| implementation | median | p90 | min | n | berth/peer | note |', '|---|---:|---:|---:|---:|---:|---|');
    for (const row of c.rows) {
      const x = cells(c, row);
      out.push(`| ${KEYS.map((k) => x[k].replace(/\|/g, '\\|')).join(' | ')} |`);
    }
    if (c.notes.length) out.push('', ...c.notes.map((n) => `- ${n}`));
  }
  return out.join('\n');
}

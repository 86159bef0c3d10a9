/**
 * The result model: a suite measures cases; a case has one row per implementation. Only
 * medians are compared (berth / peer); p90 and min show the spread. Nothing here judges a
 * number: benchmarks report, tests never assert durations.
 */

export type RowStatus = 'ok' | 'failed' | 'skipped';

export interface Row {
  /** Implementation name as printed: "berth-runtime", "runc", "podman", ... */
  impl: string;
  status: RowStatus;
  /** Why it failed or was skipped: one line. */
  reason?: string;
  /** One sample per iteration, in milliseconds. */
  samples: number[];
  /** A row that is a measured overhead or reference, not a competitor (never a ratio). */
  reference?: boolean;
  note?: string;
}

export interface Case {
  suite: string;
  name: string;
  /** What one sample is, e.g. "per container, sequential" or "50 containers, wall time". */
  unit: string;
  /** The row whose median is the numerator of every ratio. */
  subject: string;
  rows: Row[];
  notes: string[];
}

export interface Summary {
  median: number;
  p90: number;
  min: number;
  n: number;
}

export function summarize(samples: readonly number[]): Summary | undefined {
  if (samples.length === 0) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number): number => {
    const i = (s.length - 1) * p;
    const lo = Math.floor(i);
    const hi = Math.ceil(i);
    return s[lo] + (s[hi] - s[lo]) * (i - lo);
  };
  return { median: q(0.5), p90: q(0.9), min: s[0], n: s.length };
}

export function newCase(suite: string, name: string, unit: string, subject: string): Case {
  return { suite, name, unit, subject, rows: [], notes: [] };
}

export function okRow(impl: string, samples: number[], extra: Partial<Row> = {}): Row {
  return { impl, status: 'ok', samples, ...extra };
}

export function failedRow(impl: string, reason: string, samples: number[] = []): Row {
  return { impl, status: 'failed', reason, samples };
}

export function skippedRow(impl: string, reason: string): Row {
  return { impl, status: 'skipped', reason, samples: [] };
}

/** berth's median over the peer's median, when both were measured. */
export function ratio(c: Case, row: Row): number | undefined {
  if (row.reference || row.impl === c.subject || row.status !== 'ok') return undefined;
  const subject = c.rows.find((r) => r.impl === c.subject);
  if (!subject || subject.status !== 'ok') return undefined;
  const a = summarize(subject.samples);
  const b = summarize(row.samples);
  if (!a || !b || b.median === 0) return undefined;
  return a.median / b.median;
}

import { failureLine, type CmdResult } from './proc.js';
import { failedRow, okRow, skippedRow, type Row } from './result.js';

/** An implementation driven once per iteration, whose occasional failure is counted rather than fatal. */
export interface FlakyLeg {
  name: string;
  note?: string;
  samples: number[];
  /** Set-up failed, or too many runs did: the leg is not driven any more. */
  failed?: string;
  /** Runs that failed (no sample), and the first one's error. */
  failures: number;
  firstFailure?: string;
  attempts: number;
  skipped?: string;
}

/**
 * One timed run of a leg: its time is a sample when it succeeded and `counts` (not a warm-up).
 * A failure is counted and the leg goes on; too many (over 20%, at least 3) and it is given
 * up, as in the runtime suite.
 */
export function recordRun(leg: FlakyLeg, r: CmdResult, counts: boolean, log: (line: string) => void): void {
  leg.attempts++;
  if (r.code !== 0) {
    leg.failures++;
    leg.firstFailure ??= failureLine(r);
    log(`${leg.name}: run ${leg.attempts} failed: ${failureLine(r)}`);
    if (leg.failures >= 3 && leg.failures > leg.attempts * 0.2) leg.failed = `${leg.failures} of ${leg.attempts} failed, first: ${leg.firstFailure}`;
  } else if (counts) leg.samples.push(r.ms);
}

/** The leg's row: skipped, failed (no sample), or its samples with its note and how many runs failed. */
export function sampleRow(leg: FlakyLeg): Row {
  if (leg.skipped) return skippedRow(leg.name, leg.skipped);
  if (leg.samples.length === 0) return failedRow(leg.name, leg.failed ?? leg.firstFailure ?? 'no sample');
  const failNote = leg.failures ? `${leg.failures} of ${leg.attempts} runs failed, first: ${leg.firstFailure}` : undefined;
  const note = [leg.note, failNote].filter(Boolean).join('; ');
  return okRow(leg.name, leg.samples, note ? { note } : {});
}

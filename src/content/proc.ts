import { readFileSync } from 'node:fs';

/**
 * Identity of a process that survives pid reuse: pid plus its start time in clock ticks
 * (field 22 of /proc/<pid>/stat, proc(5)). Used to tell a live lock holder from a dead one.
 */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

export const SELF_START = processStart(process.pid) ?? '0';

export function isAlive(pid: number, start: string): boolean {
  return processStart(pid) === start;
}

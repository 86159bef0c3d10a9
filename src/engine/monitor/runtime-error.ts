import { BerthError, type ErrorCode } from '../../errors/index.js';

/** The monitor's failure report: its own summary plus what the runtime said. */
export interface MonitorFailure {
  error: string;
  output?: string;
  runtimeLog?: string;
}

/**
 * The runtime's own message: the last error in its --log-format json log ({"level":"error",
 * "msg":...}, as runc writes it), else the last lines it printed, else the monitor's summary.
 */
export function runtimeMessage(f: MonitorFailure): string {
  let msg: string | undefined;
  for (const line of (f.runtimeLog ?? '').split('\n')) {
    if (!line.trim()) continue;
    try {
      const j = JSON.parse(line) as { level?: string; msg?: string };
      if ((j.level === 'error' || j.level === 'fatal') && j.msg) msg = j.msg;
    } catch {
      /* a runtime that logs plain text: use the line itself */
      msg = line.trim();
    }
  }
  if (!msg && f.output?.trim()) msg = f.output.trim().split('\n').slice(-3).join('; ');
  return msg ?? f.error;
}

/** A code for a runtime failure, from the words of its message (runtimes give no codes). */
export function codeForRuntimeMessage(msg: string): ErrorCode {
  const m = msg.toLowerCase();
  if (m.includes('already exists')) return 'ALREADY_EXISTS';
  if (m.includes('no such file or directory') || m.includes('not found') || m.includes('does not exist'))
    return 'NOT_FOUND';
  if (m.includes('permission denied') || m.includes('operation not permitted')) return 'PERMISSION_DENIED';
  if (m.includes('invalid') || m.includes('parse')) return 'INVALID_ARGUMENT';
  return 'FAILED_PRECONDITION';
}

export function failureError(action: string, f: MonitorFailure): BerthError {
  const msg = runtimeMessage(f);
  return new BerthError(codeForRuntimeMessage(msg), `${action}: ${msg}`);
}

import { EXIT_CODES, toBerthError } from '../../errors/index.js';
import { startFailureKind, type StartFailureKind } from '../../engine/index.js';

/** docker's convention for run/start/exec: 127 command not found, 126 cannot invoke, else 125. */
const START_FAILURE_EXIT: Record<StartFailureKind, number> = { 'not-found': 127, 'cannot-invoke': 126 };

export function exitCodeForStartError(err: unknown): number {
  const e = toBerthError(err);
  const kind = startFailureKind(e.message);
  return kind ? START_FAILURE_EXIT[kind] : EXIT_CODES[e.code];
}

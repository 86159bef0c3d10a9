import { BerthError } from '../../errors/index.js';
import type { Seccomp } from '../../spec/runtime.js';
import { compileSeccomp } from './compile.js';

/** What the launch and exec plans take for `linux.seccomp` (see plan.ts: the SECCOMP op). */
export interface SeccompPlanInput {
  seccompBpf?: Uint8Array;
  seccompFlags?: number;
}

/**
 * Compiles a spec's `linux.seccomp` for the launch plan; nothing when the spec has none.
 * listenerPath is refused until berth-init sends the listener fd (docs/seccomp.md says how).
 */
export function seccompPlanInput(s: Seccomp | undefined): SeccompPlanInput {
  if (!s) return {};
  if (s.listenerPath) {
    throw new BerthError(
      'NOT_IMPLEMENTED',
      `seccomp: listenerPath ${JSON.stringify(s.listenerPath)}: handing the notification fd to a listener is not supported yet`,
    );
  }
  const c = compileSeccomp(s);
  return { seccompBpf: c.filter, seccompFlags: c.flags };
}

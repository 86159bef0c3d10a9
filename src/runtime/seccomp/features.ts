/**
 * The `linux.seccomp` part of the runtime's `features` output (runtime-spec features.md):
 * what this compiler understands, and which filter flags the running kernel takes.
 */
import { release } from 'node:os';
import { SPEC_ACTIONS, SPEC_FLAGS } from './action.js';
import { ARCH_INFO, SPEC_ARCHES } from './arch.js';
import { OPS } from './compile.js';

export interface SeccompFeatures {
  enabled: boolean;
  actions: string[];
  operators: string[];
  archs: string[];
  knownFlags: string[];
  supportedFlags: string[];
}

// The kernel release that brought each flag (seccomp(2)).
const FLAG_SINCE: Record<string, [number, number]> = {
  SECCOMP_FILTER_FLAG_TSYNC: [3, 17],
  SECCOMP_FILTER_FLAG_LOG: [4, 14],
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: [4, 17],
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: [5, 19],
};

export function seccompFeatures(kernel = release()): SeccompFeatures {
  const m = /^(\d+)\.(\d+)/.exec(kernel);
  const [k, j] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  const known = Object.keys(SPEC_FLAGS);
  return {
    enabled: true,
    actions: [...SPEC_ACTIONS],
    operators: [...OPS],
    // Architectures with a syscall table: the others are accepted and left out of filters.
    archs: SPEC_ARCHES.filter((a) => ARCH_INFO[a]?.table !== undefined),
    knownFlags: known,
    supportedFlags: known.filter((f) => {
      const [fk, fj] = FLAG_SINCE[f];
      return k > fk || (k === fk && j >= fj);
    }),
  };
}

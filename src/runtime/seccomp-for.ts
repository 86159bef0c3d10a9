import { BerthError } from '../errors/index.js';
import type { Spec } from '../spec/runtime.js';
import { compileSeccomp } from './seccomp/index.js';

export interface SeccompFilter {
  bpf: Uint8Array;
  flags: number;
}

/** The filter to install: the caller's precompiled one, else the spec's profile compiled. */
export function seccompFor(spec: Spec, bpf?: Uint8Array, flags?: number): SeccompFilter | undefined {
  if (bpf) return { bpf, flags: flags ?? 0 };
  const profile = spec.linux?.seccomp;
  if (!profile) return undefined;
  const c = compileSeccomp(profile);
  if (c.listenerPath) {
    throw new BerthError('NOT_IMPLEMENTED', 'linux.seccomp.listenerPath: seccomp user notification is not supported yet');
  }
  return { bpf: c.filter, flags: c.flags };
}

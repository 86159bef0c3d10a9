import { randomUUID } from 'node:crypto';
import type { Spec } from '../spec/runtime.js';
import { compileSeccomp } from './seccomp/index.js';

export interface SeccompFilter {
  bpf: Uint8Array;
  flags: number;
  /** linux.seccomp.listenerPath: where the helper sends the listener fd. */
  listenerPath?: string;
}

/** The filter to install: the caller's precompiled one, else the spec's profile compiled. */
export function seccompFor(spec: Spec, bpf?: Uint8Array, flags?: number): SeccompFilter | undefined {
  if (bpf) return { bpf, flags: flags ?? 0 };
  const profile = spec.linux?.seccomp;
  if (!profile) return undefined;
  const c = compileSeccomp(profile);
  return c.listenerPath ? { bpf: c.filter, flags: c.flags, listenerPath: c.listenerPath } : { bpf: c.filter, flags: c.flags };
}

export interface ListenerStateInput {
  id: string;
  bundle: string;
  /** 'creating' for create (as runc sends), 'running' for exec. */
  status: 'creating' | 'running';
  /** The container init's host pid when known (exec); else the process's own pid. */
  initPid?: number;
}

/**
 * The container process state (runtime-spec runtime.md "Seccomp state"), split where the
 * process's host pid goes: the helper sends parts.join(String(pid)), so C copies text and
 * parses no JSON. The split marker is random, so no listenerMetadata or annotation can fake it.
 */
export function listenerStateParts(spec: Spec, s: ListenerStateInput): string[] {
  const mark = `@berth-pid-${randomUUID()}@`;
  const state: Record<string, unknown> = {
    ociVersion: spec.ociVersion,
    id: s.id,
    status: s.status,
    pid: s.initPid ?? mark,
    bundle: s.bundle,
  };
  if (spec.annotations && Object.keys(spec.annotations).length) state.annotations = spec.annotations;
  const text = JSON.stringify({
    ociVersion: spec.ociVersion,
    fds: ['seccompFd'],
    pid: mark,
    metadata: spec.linux?.seccomp?.listenerMetadata ?? '',
    state,
  });
  return text.split(JSON.stringify(mark));
}

import type { RuntimeContext } from './context.js';
import { cgroupOf } from './context.js';

/** `ps`: the host pids of every process in the container's cgroup. */
export function containerPids(rt: RuntimeContext, id: string): number[] {
  const rec = rt.root.load(id);
  return cgroupOf(rec).pids();
}

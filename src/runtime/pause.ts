import { BerthError } from '../errors/index.js';
import { deriveStatus } from './container-state.js';
import { cgroupOf, type RuntimeContext } from './context.js';

/** `pause`: freeze every process of a running container (freezer cgroup). */
export function pauseContainer(rt: RuntimeContext, id: string): void {
  const rec = rt.root.load(id);
  const cg = cgroupOf(rec);
  const status = deriveStatus(rec, () => cg.isFrozen());
  if (status !== 'running') {
    throw new BerthError('FAILED_PRECONDITION', `pause container ${JSON.stringify(id)}: container is ${status}, not running`);
  }
  cg.freeze();
}

/** `resume`: thaw a paused container. */
export function resumeContainer(rt: RuntimeContext, id: string): void {
  const rec = rt.root.load(id);
  const cg = cgroupOf(rec);
  const status = deriveStatus(rec, () => cg.isFrozen());
  if (status !== 'paused') {
    throw new BerthError('FAILED_PRECONDITION', `resume container ${JSON.stringify(id)}: container is ${status}, not paused`);
  }
  cg.thaw();
}

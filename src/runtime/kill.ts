import { BerthError } from '../errors/index.js';
import { deriveStatus } from './container-state.js';
import { cgroupOf, type RuntimeContext } from './context.js';

/**
 * OCI `kill`: signal the init of a created or running container, or with `all` every process
 * in its cgroup. A stopped container cannot be signalled.
 */
export function killContainer(rt: RuntimeContext, id: string, signal: number, all = false): void {
  const rec = rt.root.load(id);
  const cg = cgroupOf(rec);
  const status = deriveStatus(rec, () => cg.isFrozen());
  if (status === 'stopped' && !all) {
    throw new BerthError('FAILED_PRECONDITION', `kill container ${JSON.stringify(id)}: container is not running`);
  }
  if (all) {
    cg.killAll(signal);
    if (status === 'paused') cg.thaw(); // a frozen process cannot act on the signal
    return;
  }
  try {
    process.kill(rec.pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw BerthError.wrap(err, `kill container ${JSON.stringify(id)}`);
  }
}

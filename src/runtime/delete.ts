import { BerthError, toBerthError, withCleanupError } from '../errors/index.js';
import { deriveStatus, initAlive, ociState, processStartTime } from './container-state.js';
import { runHooksWarnOnly } from './hooks.js';
import { cgroupOf, type RuntimeContext } from './context.js';

/**
 * OCI `delete`: release everything of a stopped (or never started) container: processes left
 * in its cgroup, the cgroup, then poststop hooks, then the state dir. `force` kills a running
 * one first. Deleting a missing container with `force` is not an error (as runc).
 */
export async function deleteContainer(rt: RuntimeContext, id: string, force = false): Promise<void> {
  let rec;
  try {
    rec = rt.root.load(id);
  } catch (err) {
    if (force && err instanceof BerthError && err.code === 'NOT_FOUND') return;
    throw err;
  }
  const cg = cgroupOf(rec);
  const status = deriveStatus(rec, () => cg.isFrozen());
  if ((status === 'running' || status === 'paused') && !force) {
    throw new BerthError(
      'FAILED_PRECONDITION',
      `delete container ${JSON.stringify(id)}: cannot delete a ${status} container; stop it first or use --force`,
    );
  }
  let failure: BerthError | undefined;
  try {
    if (initAlive(rec)) {
      try {
        process.kill(rec.pid, 'SIGKILL');
      } catch {
        /* raced with its exit */
      }
    }
    // destroy() thaws, kills what is left in the cgroup and removes it in every hierarchy.
    cg.destroy();
    await waitGone(rec.pid, rec.pidStartTime);
  } catch (err) {
    failure = BerthError.wrap(err, `delete container ${JSON.stringify(id)}`);
  }
  let spec;
  try {
    spec = rt.root.loadSpec(id);
  } catch {
    spec = undefined;
  }
  if (spec) for (const w of await runHooksWarnOnly(spec.hooks, 'poststop', ociState(rec, 'stopped'))) rt.warn(w);
  try {
    rt.root.release(id);
  } catch (err) {
    failure = failure ? withCleanupError(failure, err) : toBerthError(err);
  }
  if (failure) throw failure;
}

/** Wait (bounded) until the init has really exited, so its mounts and namespaces are gone. */
async function waitGone(pid: number, startTime: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (pid <= 0 || processStartTime(pid) !== startTime) return;
    await new Promise((r) => setTimeout(r, i < 20 ? 1 : 10));
  }
  throw new BerthError('DEADLINE_EXCEEDED', `process ${pid} did not exit after SIGKILL`);
}

import { BerthError } from '../errors/index.js';
import { releaseContainer } from './launch.js';
import { deriveStatus, ociState } from './container-state.js';
import { runHooks, runHooksWarnOnly } from './hooks.js';
import { cgroupOf, type RuntimeContext } from './context.js';

/** startContainer hooks run inside the container: its namespaces, root and cwd (runtime-spec). */
const START_CONTAINER_NS = ['--all', '--root', '--wd'];

/**
 * OCI `start`: only a created container can start. startContainer hooks run in the container,
 * then the waiting init is released to execve the user process, then poststart hooks run.
 */
export async function startContainer(rt: RuntimeContext, id: string): Promise<void> {
  const rec = rt.root.load(id);
  const cg = cgroupOf(rec);
  const status = deriveStatus(rec, () => cg.isFrozen());
  if (status !== 'created') {
    throw new BerthError('FAILED_PRECONDITION', `start container ${JSON.stringify(id)}: cannot start a container that is ${status}`);
  }
  const spec = rt.root.loadSpec(id);
  const state = ociState(rec, 'created');
  try {
    await runHooks(spec.hooks, 'startContainer', state, { enter: { pid: rec.pid, flags: START_CONTAINER_NS } });
  } catch (err) {
    throw BerthError.wrap(err, `start container ${JSON.stringify(id)}`);
  }
  await releaseContainer(rt.root.containerDir(id), rec.pid);
  rec.started = true;
  rt.root.save(rec);
  for (const w of await runHooksWarnOnly(spec.hooks, 'poststart', ociState(rec, 'running'))) rt.warn(w);
}

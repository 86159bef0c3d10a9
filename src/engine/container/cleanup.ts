import { isBerthError } from '../../errors/index.js';
import type { Engine } from '../engine.js';
import { removeContainer } from './remove.js';
import { refreshContainer } from './status.js';

/**
 * What the monitor's exit command runs once a container has exited (podman's `container
 * cleanup`): record the final status and, for `--rm`, remove the container. Quiet when the
 * container is already gone or being removed by someone else.
 */
export async function cleanupContainer(engine: Engine, ref: string, opts: { remove?: boolean } = {}): Promise<void> {
  const rec = engine.containers.tryFind(ref);
  if (!rec) return;
  const r = refreshContainer(engine, rec);
  // an exited container holds no network (a restarting one keeps its namespace)
  if (r.state.status === 'exited' && !(opts.remove && r.config.autoRemove)) await engine.network?.teardown(r.id);
  if (!opts.remove || !r.config.autoRemove || r.state.status !== 'exited') return;
  try {
    await removeContainer(engine, r.id, { force: true, volumes: true });
  } catch (err) {
    if (!isBerthError(err, 'NOT_FOUND') && !isBerthError(err, 'CONFLICT')) throw err;
  }
}

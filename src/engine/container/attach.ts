import { BerthError } from '../../errors/index.js';
import { attach, type MonitorAttach } from '../monitor/index.js';
import type { ContainerRecord } from '../containers/store.js';
import type { Engine } from '../engine.js';
import { refreshContainer } from './status.js';

/**
 * docker attach: connect to the running container's monitor (its attach socket,
 * docs/monitor.md): live output from now on, stdin (shared with every other client), RESIZE
 * frames for a pty. Resolves once the monitor registered us (PING/PONG), so no output after
 * that point is missed. The caller reads, writes and destroys the attach.
 */
export async function attachContainer(engine: Engine, ref: string): Promise<{ container: ContainerRecord; attach: MonitorAttach }> {
  const rec = refreshContainer(engine, engine.containers.find(ref));
  const what = `attach to container ${JSON.stringify(rec.name)}`;
  if (rec.state.status === 'paused') throw new BerthError('CONFLICT', `${what}: the container is paused, unpause it first`);
  if (rec.state.status !== 'running' && rec.state.status !== 'restarting')
    throw new BerthError('CONFLICT', `${what}: you cannot attach to a stopped container, start it first`);
  const a = await attach(engine.paths(rec.id).dir, rec.name);
  try {
    await a.ready();
  } catch (err) {
    a.destroy();
    throw BerthError.wrap(err, what);
  }
  return { container: rec, attach: a };
}

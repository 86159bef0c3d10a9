import { BerthError } from '../../errors/index.js';
import type { Engine } from '../engine.js';
import { noRestart, parseSignalName, signalContainer, signalNumber } from './signal.js';
import { refreshContainer } from './status.js';

/** docker kill: send a signal (default KILL) to a running container's init. */
export async function killContainer(engine: Engine, ref: string, signal = 'KILL'): Promise<string> {
  const rec = refreshContainer(engine, engine.containers.find(ref));
  parseSignalName(signal);
  if (rec.state.status !== 'running' && rec.state.status !== 'restarting') {
    throw new BerthError('CONFLICT', `cannot kill container: ${ref}: container ${rec.id} is not running`);
  }
  // docker: a killed container is not restarted when the signal ends it for good
  if (['KILL', 'SIGKILL', '9'].includes(signal.toUpperCase())) await noRestart(engine, rec);
  await signalContainer(engine, rec, signal);
  engine.containerEvent(rec, 'kill', { signal: signalNumber(signal) });
  return rec.id;
}

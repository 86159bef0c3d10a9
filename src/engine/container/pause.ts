import { BerthError } from '../../errors/index.js';
import type { Engine } from '../engine.js';
import { refreshContainer } from './status.js';

/** docker pause: freeze every process of the container (cgroup freezer, through the runtime). */
export async function pauseContainer(engine: Engine, ref: string): Promise<string> {
  const rec = refreshContainer(engine, engine.containers.find(ref));
  if (rec.state.status === 'paused') throw new BerthError('CONFLICT', `container ${rec.id} is already paused`);
  if (rec.state.status !== 'running') throw new BerthError('CONFLICT', `container ${rec.id} is not running`);
  await engine.runtime(rec.config.runtime).pause(rec.id);
  engine.containers.updateState(rec.id, (s) => (s.status === 'running' ? { ...s, status: 'paused' } : s));
  engine.containerEvent(rec, 'pause');
  return rec.id;
}

export async function unpauseContainer(engine: Engine, ref: string): Promise<string> {
  const rec = refreshContainer(engine, engine.containers.find(ref));
  if (rec.state.status !== 'paused') throw new BerthError('CONFLICT', `container ${rec.id} is not paused`);
  await engine.runtime(rec.config.runtime).resume(rec.id);
  engine.containers.updateState(rec.id, (s) => (s.status === 'paused' ? { ...s, status: 'running' } : s));
  engine.containerEvent(rec, 'unpause');
  return rec.id;
}

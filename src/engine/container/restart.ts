import type { Engine } from '../engine.js';
import { startContainer } from './start.js';
import { stopContainer, type StopOptions } from './stop.js';

/** docker restart: stop (with its timeout), then start. */
export async function restartContainer(engine: Engine, ref: string, opts: StopOptions = {}): Promise<string> {
  const rec = await stopContainer(engine, ref, opts);
  await startContainer(engine, rec.id);
  engine.containerEvent(rec, 'restart');
  return rec.id;
}

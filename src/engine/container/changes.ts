import type { Engine } from '../engine.js';
import { refreshContainer } from './status.js';
import { upperChanges, type Change } from './upper-diff.js';

/** docker diff: what the container changed against its image (its overlay upper dir). */
export async function containerChanges(engine: Engine, ref: string): Promise<Change[]> {
  const rec = refreshContainer(engine, engine.containers.find(ref));
  return upperChanges(await engine.snapshotter.mounts(rec.snapshotKey));
}

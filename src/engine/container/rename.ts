import type { Engine } from '../engine.js';

/** docker rename: the name is unique by the store's constraint, so a race has one winner. */
export function renameContainer(engine: Engine, ref: string, newName: string): void {
  const rec = engine.containers.find(ref);
  engine.containers.rename(rec.id, newName);
  engine.containerEvent({ ...rec, name: newName.replace(/^\//, '') }, 'rename', { oldName: `/${rec.name}` });
}

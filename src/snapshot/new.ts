import { NativeSnapshotter } from './native.js';
import { OverlaySnapshotter } from './overlay.js';
import type { Snapshotter, SnapshotterName } from './types.js';

/** The snapshotter of that name, keeping its data under `root` (`<root>/metadata.db`, `<root>/snapshots/<name>/`). */
export function newSnapshotter(name: SnapshotterName, root: string): Snapshotter {
  return name === 'overlay' ? new OverlaySnapshotter(root) : new NativeSnapshotter(root);
}

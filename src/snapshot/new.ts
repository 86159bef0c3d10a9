import { readFileSync, statfsSync } from 'node:fs';
import { NativeSnapshotter } from './native.js';
import { OverlaySnapshotter } from './overlay.js';
import type { Snapshotter, SnapshotterName } from './types.js';

/** The snapshotter of that name, keeping its data under `root` (`<root>/metadata.db`, `<root>/snapshots/<name>/`). */
export function newSnapshotter(name: SnapshotterName, root: string): Snapshotter {
  return name === 'overlay' ? new OverlaySnapshotter(root) : new NativeSnapshotter(root);
}

/** statfs(2) f_type of overlayfs (linux/magic.h OVERLAYFS_SUPER_MAGIC). */
const OVERLAYFS_MAGIC = 0x794c7630;

/**
 * `overlay` where the kernel has overlayfs and `root` can hold upper dirs, else `native`.
 * An overlayfs upperdir cannot itself live on overlayfs (overlayfs.rst: the upper file
 * system must support trusted.* xattrs and d_type, which overlayfs does not provide to an
 * upper), the common case inside containers.
 */
export function defaultSnapshotterName(root: string): SnapshotterName {
  let filesystems = '';
  try {
    filesystems = readFileSync('/proc/filesystems', 'utf8');
  } catch {
    return 'native';
  }
  if (!/\toverlay\n/.test(filesystems)) return 'native';
  let dir = root;
  for (;;) {
    try {
      return statfsSync(dir).type === OVERLAYFS_MAGIC ? 'native' : 'overlay';
    } catch {
      const up = dir.slice(0, dir.lastIndexOf('/')) || '/';
      if (up === dir) return 'overlay';
      dir = up;
    }
  }
}

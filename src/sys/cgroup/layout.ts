import type { CgroupLayout } from './types.js';
import { cgroupMounts, type Hierarchy } from './mounts.js';

export const DEFAULT_ROOT = '/sys/fs/cgroup';

/**
 * Which cgroup layout the host has under `root`: "v2" when a cgroup2 file system is mounted at
 * root itself, "hybrid" when v1 controllers sit beside a cgroup2 mount (systemd's
 * "unified" sub-mount), "v1" otherwise.
 */
export function detectLayout(root: string = DEFAULT_ROOT): CgroupLayout {
  return layoutOf(hierarchiesUnder(root), root);
}

export function layoutOf(mounts: Hierarchy[], root: string): CgroupLayout {
  if (mounts.some((m) => m.version === 2 && m.mountpoint === root)) return 'v2';
  const v1 = mounts.some((m) => m.version === 1);
  const v2 = mounts.some((m) => m.version === 2);
  if (v1 && v2) return 'hybrid';
  if (v1) return 'v1';
  return v2 ? 'hybrid' : 'v1';
}

/** The cgroup mounts at or below `root` (the later of two mounts on one point wins). */
export function hierarchiesUnder(root: string): Hierarchy[] {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const byPoint = new Map<string, Hierarchy>();
  for (const m of cgroupMounts()) {
    if (m.mountpoint === root || m.mountpoint.startsWith(prefix)) byPoint.set(m.mountpoint, m);
  }
  return [...byPoint.values()];
}

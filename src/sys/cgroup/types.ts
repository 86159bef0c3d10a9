import type { Resources } from '../../spec/runtime.js';

/**
 * Cgroup control for one container, the same on cgroups v1, v2 and this machine's hybrid
 * layout (v1 controllers + a cgroup2 mount holding only hugetlb). Implementations live beside
 * this file; `openCgroups()` in index.ts detects the layout and returns the right one.
 */
export interface CgroupManager {
  /** The cgroup path relative to each hierarchy's root, e.g. "/berth/abc". */
  readonly path: string;
  /** Create the cgroup (all hierarchies) and apply resources. Fails with nothing left behind. */
  create(resources: Resources | undefined): void;
  /**
   * Files a process writes its pid (or "0" for itself) into to join this cgroup, one per
   * hierarchy. The native helper joins them before clone() so the container starts inside.
   */
  procsFiles(): string[];
  /** Apply new limits to an existing cgroup (`update`). */
  update(resources: Resources): void;
  /** Freeze or thaw every process (pause/resume); waits until the kernel says FROZEN. */
  freeze(): void;
  thaw(): void;
  isFrozen(): boolean;
  /** Every pid in the cgroup (all hierarchies merged, sorted). */
  pids(): number[];
  /** Send a signal to every process in the cgroup. */
  killAll(signal: NodeJS.Signals | number): void;
  /** Usage for `stats`/`events`: memory, cpu, pids, OOM kills. */
  stats(): CgroupStats;
  /**
   * Remove the cgroup from every hierarchy. Kills what is left (thawing first), retries EBUSY
   * briefly, and is idempotent: destroying a missing cgroup is not an error.
   */
  destroy(): void;
  /** Whether the cgroup exists in at least one hierarchy. */
  exists(): boolean;
}

export interface CgroupStats {
  memory: { usage: number; limit: number; maxUsage?: number; oomKills: number };
  cpu: { usageNanos: number; throttledPeriods?: number };
  pids: { current: number; limit: number };
}

export type CgroupLayout = 'v1' | 'v2' | 'hybrid';

/**
 * Snapshots, in containerd's vocabulary (core/snapshots), defined once here:
 *
 * - A **snapshot** is a directory tree that a container or an unpacker sees as a file system.
 * - A **key** names a snapshot that is not committed; a **name** names a committed one. Keys
 *   and names share one namespace per snapshotter: an active `key` and a committed `name`
 *   can never be equal.
 * - The **parent** of a snapshot is the committed snapshot it is layered on (the lower
 *   layers); a snapshot without a parent starts empty. Chains of parents model image layers.
 * - An **active** snapshot is writable: made by `prepare(key, parent)`, it can be committed.
 *   A **view** is a read-only active snapshot made by `view(key, parent)`; it can never be
 *   committed. A **committed** snapshot is immutable and may be the parent of others.
 * - **prepare** makes an active snapshot on top of a parent and returns its mounts;
 *   **view** does the same read-only; **commit** turns an active snapshot into a committed
 *   one under a name (the key is gone afterwards); **remove** deletes a snapshot that no other
 *   snapshot has as parent (else FAILED_PRECONDITION).
 * - **mounts** are descriptions (`{ type, source, options }`, as mount(8) takes them) that,
 *   mounted in order on one target, show the snapshot's tree. A snapshotter never mounts.
 * - **stat** returns a snapshot's record, **walk** all records, **usage** the disk space
 *   and inodes the snapshot itself uses (its own layer, not its parents').
 */
export type SnapshotKind = 'active' | 'view' | 'committed';

/** One mount, as mount(8) takes it: `mount -t type -o options.join(',') source target`. */
export interface Mount {
  /** A file system type (`overlay`), or `bind` for a bind mount. */
  type: string;
  source: string;
  options: string[];
}

export interface SnapshotInfo {
  /** The key of an active snapshot or view, or the name of a committed one. */
  key: string;
  kind: SnapshotKind;
  /** Name of the committed parent, if any. */
  parent?: string;
  labels: Record<string, string>;
  created: Date;
  updated: Date;
}

export interface Usage {
  /** Bytes of disk used (allocated blocks), each inode counted once. */
  size: number;
  inodes: number;
}

/** Which snapshotter: also the layer format that `applyLayer` writes for it. */
export type SnapshotterName = 'overlay' | 'native';

export interface Snapshotter {
  readonly name: SnapshotterName;
  /** The root this snapshotter keeps its directories under. */
  readonly root: string;
  /** Make an active (writable) snapshot `key` on top of the committed `parent`. */
  prepare(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]>;
  /** Make a read-only view `key` of the committed `parent`. */
  view(key: string, parent: string, labels?: Record<string, string>): Promise<Mount[]>;
  /** Commit the active snapshot `key` as `name`; `key` is gone afterwards. */
  commit(name: string, key: string, labels?: Record<string, string>): Promise<void>;
  /** Remove a snapshot; FAILED_PRECONDITION while another snapshot has it as parent. */
  remove(key: string): Promise<void>;
  /** The mounts of an active snapshot or view. */
  mounts(key: string): Promise<Mount[]>;
  stat(key: string): Promise<SnapshotInfo>;
  walk(): Promise<SnapshotInfo[]>;
  usage(key: string): Promise<Usage>;
  /** The directory an unpacker writes a layer into, for an active snapshot. */
  layerDir(key: string): Promise<string>;
  /** Delete directories that have no committed record (left by crashes). */
  cleanup(): Promise<void>;
}

import { lchownSync, lstatSync, chmodSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../errors/index.js';
import { HOST_ROOT_IN_IDMAP } from '../sys/idmap.js';
import { immediate, migrate, type Db } from '../util/sqlite.js';
import { readRootConfig } from './root-config.js';

/** `--userns`: host (no user namespace), auto (a range from the pool) or `<uid>:<gid>:<size>`. */
export type UsernsMode = { kind: 'host' } | { kind: 'auto' } | { kind: 'range'; uid: number; gid: number; size: number };

/** The mapping of a container's ids 0..size-1 to host ids uid.. and gid.. */
export interface IdRange {
  uid: number;
  gid: number;
  size: number;
}

/** The auto pool: 65536-wide ranges from POOL_START (above /etc/subuid's usual 100000-165535). */
export const RANGE_SIZE = 65536;
export const POOL_START = 165536;
const POOL_RANGES = 4096;

export function parseUsernsMode(s: string | undefined): UsernsMode {
  if (!s || s === 'host') return { kind: 'host' };
  if (s === 'auto') return { kind: 'auto' };
  const m = /^(\d+):(\d+):(\d+)$/.exec(s);
  if (m) {
    const [uid, gid, size] = [Number(m[1]), Number(m[2]), Number(m[3])];
    // a range that contains host root (0) would give the container the host's root: refuse
    if (uid === 0 || gid === 0 || size < 1 || uid + size > 2 ** 32 - 1 || gid + size > 2 ** 32 - 1) {
      throw new BerthError('INVALID_ARGUMENT', `invalid --userns ${JSON.stringify(s)}: the host uid and gid must be above 0 and the range fit in 32 bits`);
    }
    return { kind: 'range', uid, gid, size };
  }
  throw new BerthError('INVALID_ARGUMENT', `invalid --userns ${JSON.stringify(s)}: want host, auto or <uid>:<gid>:<size>`);
}

/** Where the --userns=auto pool starts: `<root>/config.json` `{"usernsPoolStart": N}`, else POOL_START. */
export function configuredPoolStart(root: string): number {
  const start = readRootConfig(root).usernsPoolStart;
  return typeof start === 'number' && start > 0 ? start : POOL_START;
}

const MIGRATIONS = [
  `CREATE TABLE userns_ranges (
     start INTEGER PRIMARY KEY,
     container TEXT NOT NULL UNIQUE
   );`,
  // how a --userns container's rootfs was made the mapped root's: every later mount (start
  // after a reboot, cp) must do the same, the two store different owners in the upper dir
  `CREATE TABLE userns_rootfs (
     container TEXT PRIMARY KEY,
     ownership TEXT NOT NULL
   );`,
];

/**
 * How a --userns container's rootfs is made its root's: `idmapped` layers (the files keep their
 * owners on disk, the mount shifts them), or a `chown` copy (the fallback: every file shifted
 * into the container's upper dir at create).
 */
export type RootfsOwnership = 'idmapped' | 'chown';

/**
 * The auto ranges in use, in the engine's SQLite: the start is the primary key, so two berth
 * processes allocating at once cannot both take one (the insert runs in an immediate transaction).
 */
export class UsernsRanges {
  readonly #db: Db;
  readonly #poolStart: number;

  constructor(db: Db, poolStart = POOL_START) {
    this.#db = db;
    this.#poolStart = poolStart;
    migrate(db, 'userns', MIGRATIONS);
  }

  allocate(container: string): IdRange {
    return immediate(this.#db, () => {
      const used = new Set((this.#db.prepare('SELECT start FROM userns_ranges').all() as { start: number }[]).map((r) => r.start));
      for (let i = 0; i < POOL_RANGES; i++) {
        const start = this.#poolStart + i * RANGE_SIZE;
        if (used.has(start)) continue;
        this.#db.prepare('INSERT INTO userns_ranges (start, container) VALUES (?, ?)').run(start, container);
        return { uid: start, gid: start, size: RANGE_SIZE };
      }
      throw new BerthError('RESOURCE_EXHAUSTED', `allocate a user namespace range for container ${container}: all ${POOL_RANGES} ranges are in use`);
    });
  }

  /** Forget the container: its auto range (free again) and its rootfs ownership. */
  release(container: string): void {
    this.#db.prepare('DELETE FROM userns_ranges WHERE container = ?').run(container);
    this.#db.prepare('DELETE FROM userns_rootfs WHERE container = ?').run(container);
  }

  setOwnership(container: string, ownership: RootfsOwnership): void {
    this.#db.prepare('INSERT INTO userns_rootfs (container, ownership) VALUES (?, ?) ON CONFLICT(container) DO UPDATE SET ownership = excluded.ownership').run(container, ownership);
  }

  /** How the container's rootfs was shifted; a --userns container made before this was recorded: `chown`. */
  ownership(container: string): RootfsOwnership {
    const r = this.#db.prepare('SELECT ownership FROM userns_rootfs WHERE container = ?').get(container) as { ownership: RootfsOwnership } | undefined;
    return r?.ownership ?? 'chown';
  }

  get(container: string): IdRange | undefined {
    const r = this.#db.prepare('SELECT start FROM userns_ranges WHERE container = ?').get(container) as { start: number } | undefined;
    return r ? { uid: r.start, gid: r.start, size: RANGE_SIZE } : undefined;
  }

  list(): { start: number; container: string }[] {
    return this.#db.prepare('SELECT start, container FROM userns_ranges ORDER BY start').all() as { start: number; container: string }[];
  }
}

/**
 * The chown fallback (for a kernel or file system that cannot idmap the overlay's layers): shift
 * every file of the mounted rootfs with an id below `size` by the range's offset. On overlay
 * this copies each file up into the container's own upper dir, so the image's layers stay
 * untouched. Ids already in the range (a hardlink seen twice) are left alone. chown(2) clears
 * set-user-ID and set-group-ID bits, so the mode is put back after.
 */
export function shiftOwnership(root: string, range: IdRange): void {
  const shift = (p: string) => {
    const st = lstatSync(p);
    const uid = st.uid < range.size ? st.uid + range.uid : st.uid;
    const gid = st.gid < range.size ? st.gid + range.gid : st.gid;
    if (uid !== st.uid || gid !== st.gid) {
      lchownSync(p, uid, gid);
      if (!st.isSymbolicLink() && st.mode & 0o6000) chmodSync(p, st.mode & 0o7777);
    }
    if (st.isDirectory()) for (const name of readdirSync(p)) shift(join(p, name));
  };
  try {
    shift(root);
  } catch (err) {
    throw BerthError.wrap(err, `shift the rootfs ownership to ${range.uid}:${range.gid}`);
  }
}

/**
 * The ids `berth commit` must write back as container ids for a --userns container: its host
 * range after a chown copy; after idmapped layers the owners on disk are the container's
 * already, but for host root's own writes (HOST_ROOT_IN_IDMAP), which become 0.
 */
export function commitIdRange(engine: { usernsRanges: UsernsRanges }, rec: { id: string; config: { userns?: string } }): IdRange | undefined {
  const range = containerIdRange(engine, rec);
  if (!range || engine.usernsRanges.ownership(rec.id) === 'chown') return range;
  return { uid: HOST_ROOT_IN_IDMAP, gid: HOST_ROOT_IN_IDMAP, size: 1 };
}

/** The host range of a container's user namespace, if it has one. */
export function containerIdRange(engine: { usernsRanges: UsernsRanges }, rec: { id: string; config: { userns?: string } }): IdRange | undefined {
  const mode = parseUsernsMode(rec.config.userns);
  if (mode.kind === 'range') return { uid: mode.uid, gid: mode.gid, size: mode.size };
  if (mode.kind === 'auto') return engine.usernsRanges.get(rec.id);
  return undefined;
}

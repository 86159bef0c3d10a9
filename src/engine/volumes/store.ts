import type { EventSink } from '../events/index.js';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../errors/index.js';
import { immediate, migrate, type Db } from '../../util/sqlite.js';
import { newId } from '../../util/id.js';

export interface Volume {
  name: string;
  driver: 'local';
  mountpoint: string;
  created: string;
  labels: Record<string, string>;
  /** Anonymous volumes (from an image's VOLUME or `-v /path`) go with `rm -v`. */
  anonymous: boolean;
}

const MIGRATIONS = [
  `CREATE TABLE volumes (
     name TEXT PRIMARY KEY,
     created TEXT NOT NULL,
     labels TEXT NOT NULL,
     anonymous INTEGER NOT NULL
   );
   CREATE TABLE volume_refs (
     volume TEXT NOT NULL REFERENCES volumes(name),
     container TEXT NOT NULL,
     PRIMARY KEY (volume, container)
   );`,
];

interface VolumeRow {
  name: string;
  created: string;
  labels: string;
  anonymous: number;
}

const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Named volumes: a directory each under `<root>/volumes/<name>/_data`, as docker lays them out. */
export class VolumeStore {
  readonly #db: Db;
  readonly #dir: string;
  readonly #onEvent: EventSink;

  /** `onEvent` hears create and destroy (docker's volume events). */
  constructor(db: Db, root: string, onEvent: EventSink = () => {}) {
    this.#db = db;
    this.#onEvent = onEvent;
    this.#dir = join(root, 'volumes');
    migrate(db, 'volumes', MIGRATIONS);
  }

  #view(r: VolumeRow): Volume {
    return { name: r.name, driver: 'local', mountpoint: join(this.#dir, r.name, '_data'), created: r.created, labels: JSON.parse(r.labels), anonymous: !!r.anonymous };
  }

  /** Create (or, as docker does, return the existing volume of that name). */
  create(opts: { name?: string; labels?: Record<string, string>; anonymous?: boolean } = {}): Volume {
    const name = opts.name ?? newId();
    if (!VOLUME_NAME_RE.test(name)) {
      throw new BerthError('INVALID_ARGUMENT', `invalid volume name ${JSON.stringify(name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    let created = false;
    const v = immediate(this.#db, () => {
      const existing = this.#db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as VolumeRow | undefined;
      if (existing) return this.#view(existing);
      created = true;
      mkdirSync(join(this.#dir, name, '_data'), { recursive: true, mode: 0o755 });
      const row = { name, created: new Date().toISOString(), labels: JSON.stringify(opts.labels ?? {}), anonymous: opts.anonymous ? 1 : 0 };
      this.#db.prepare('INSERT INTO volumes (name, created, labels, anonymous) VALUES (?, ?, ?, ?)').run(row.name, row.created, row.labels, row.anonymous);
      return this.#view(row);
    });
    if (created) this.#onEvent('create', name);
    return v;
  }

  get(name: string): Volume {
    const r = this.#db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as VolumeRow | undefined;
    if (!r) throw new BerthError('NOT_FOUND', `get ${name}: no such volume`);
    return this.#view(r);
  }

  list(): Volume[] {
    return (this.#db.prepare('SELECT * FROM volumes ORDER BY name').all() as VolumeRow[]).map((r) => this.#view(r));
  }

  /** Record that a container uses a volume, so it cannot be removed under it. */
  reference(name: string, container: string): void {
    immediate(this.#db, () => this.#db.prepare('INSERT OR IGNORE INTO volume_refs (volume, container) VALUES (?, ?)').run(name, container));
  }

  release(container: string): string[] {
    return immediate(this.#db, () => {
      const names = (this.#db.prepare('SELECT volume FROM volume_refs WHERE container = ?').all(container) as { volume: string }[]).map((r) => r.volume);
      this.#db.prepare('DELETE FROM volume_refs WHERE container = ?').run(container);
      return names;
    });
  }

  usedBy(name: string): string[] {
    return (this.#db.prepare('SELECT container FROM volume_refs WHERE volume = ?').all(name) as { container: string }[]).map((r) => r.container);
  }

  /** Remove a volume no container uses (force: also when missing). */
  remove(name: string, force = false): void {
    const gone = immediate(this.#db, () => {
      const users = this.usedBy(name);
      if (users.length) {
        throw new BerthError('CONFLICT', `remove ${name}: volume is in use - [${users.join(', ')}]`);
      }
      const r = this.#db.prepare('DELETE FROM volumes WHERE name = ?').run(name);
      if (r.changes === 0 && !force) throw new BerthError('NOT_FOUND', `get ${name}: no such volume`);
      return r.changes > 0;
    });
    rmSync(join(this.#dir, name), { recursive: true, force: true });
    if (gone) this.#onEvent('destroy', name);
  }

  /** Remove every unused volume (anonymous only unless `all`); returns names and bytes freed. */
  prune(all = false): { removed: string[]; reclaimed: number } {
    const removed: string[] = [];
    let reclaimed = 0;
    for (const v of this.list()) {
      if (!all && !v.anonymous) continue;
      if (this.usedBy(v.name).length) continue;
      reclaimed += duBytes(join(this.#dir, v.name));
      try {
        this.remove(v.name, true);
        removed.push(v.name);
      } catch (err) {
        if (!(err instanceof BerthError && err.code === 'CONFLICT')) throw err;
      }
    }
    return { removed, reclaimed };
  }

  size(name: string): number {
    return duBytes(join(this.#dir, name));
  }
}

/** Bytes under a directory (not following symlinks). */
export function duBytes(path: string): number {
  let total = 0;
  let st;
  try {
    st = statSync(path, { throwIfNoEntry: false });
  } catch {
    return 0;
  }
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) total += duBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

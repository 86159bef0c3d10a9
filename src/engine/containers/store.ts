import { BerthError } from '../../errors/index.js';
import { immediate, migrate, type Db } from '../../util/sqlite.js';
import type { RunConfig } from '../run-config.js';
import { NAME_RE, randomName } from './names.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** What the engine remembers of a container between commands (docker's State). */
export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  exitCode: number;
  oomKilled: boolean;
  startedAt: string;
  finishedAt: string;
  restartCount: number;
  error: string;
  /** While status is "removing": the pid of the berth process removing it (a dead one means a crashed rm). */
  removingBy?: number;
  /** The status before removal began. */
  removingFrom?: ContainerStatus;
  health?: { status: 'starting' | 'healthy' | 'unhealthy'; failingStreak: number; log: { start: string; end: string; exitCode: number; output: string }[] };
}

export interface ContainerRecord {
  id: string;
  name: string;
  image: string;
  imageId: string;
  created: string;
  config: RunConfig;
  state: ContainerState;
  /** Snapshot key of the writable layer. */
  snapshotKey: string;
  /** Name of the runtime driver (`--runtime`). */
  runtime: string;
  labels: Record<string, string>;
}

const MIGRATIONS = [
  `CREATE TABLE containers (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     image TEXT NOT NULL,
     image_id TEXT NOT NULL,
     created TEXT NOT NULL,
     config TEXT NOT NULL,
     state TEXT NOT NULL,
     snapshot_key TEXT NOT NULL,
     runtime TEXT NOT NULL,
     labels TEXT NOT NULL
   );
   CREATE INDEX containers_image ON containers(image_id);`,
];

interface Row {
  id: string;
  name: string;
  image: string;
  image_id: string;
  created: string;
  config: string;
  state: string;
  snapshot_key: string;
  runtime: string;
  labels: string;
}

const fromRow = (r: Row): ContainerRecord => ({
  id: r.id,
  name: r.name,
  image: r.image,
  imageId: r.image_id,
  created: r.created,
  config: JSON.parse(r.config) as RunConfig,
  state: JSON.parse(r.state) as ContainerState,
  snapshotKey: r.snapshot_key,
  runtime: r.runtime,
  labels: JSON.parse(r.labels) as Record<string, string>,
});

export function initialState(): ContainerState {
  return { status: 'created', pid: 0, exitCode: 0, oomKilled: false, startedAt: '', finishedAt: '', restartCount: 0, error: '' };
}

/**
 * Container metadata in the shared SQLite file. Names are unique by constraint, so two berth
 * processes creating "web" at once cannot both win; every write is one immediate transaction.
 */
export class ContainerStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
    migrate(db, 'containers', MIGRATIONS);
  }

  /** Insert a new container; picks a free random name when none is given. */
  insert(rec: Omit<ContainerRecord, 'name'> & { name?: string }): ContainerRecord {
    const explicit = rec.name?.replace(/^\//, '');
    if (explicit !== undefined && !NAME_RE.test(explicit)) {
      throw new BerthError('INVALID_ARGUMENT', `invalid container name ${JSON.stringify(explicit)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    const stmt = this.#db.prepare(
      'INSERT INTO containers (id, name, image, image_id, created, config, state, snapshot_key, runtime, labels) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (let attempt = 0; ; attempt++) {
      const name = explicit ?? (attempt < 5 ? randomName() : `${randomName()}_${attempt}`);
      try {
        immediate(this.#db, () =>
          stmt.run(rec.id, name, rec.image, rec.imageId, rec.created, JSON.stringify(rec.config), JSON.stringify(rec.state), rec.snapshotKey, rec.runtime, JSON.stringify(rec.labels)),
        );
        return { ...rec, name };
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE' || attempt > 50) throw err;
        if (explicit !== undefined) {
          const other = this.#db.prepare('SELECT id FROM containers WHERE name = ?').get(explicit) as { id: string } | undefined;
          throw new BerthError(
            'CONFLICT',
            `the container name "/${explicit}" is already in use by container "${other?.id ?? '?'}"; remove or rename that container to be able to reuse that name`,
          );
        }
      }
    }
  }

  /** Find by full id, exact name, or unique id prefix (docker's lookup order). */
  find(ref: string): ContainerRecord {
    const r = this.tryFind(ref);
    if (!r) throw new BerthError('NOT_FOUND', `No such container: ${ref}`);
    return r;
  }

  tryFind(ref: string): ContainerRecord | undefined {
    const name = ref.replace(/^\//, '');
    let row = this.#db.prepare('SELECT * FROM containers WHERE id = ? OR name = ?').get(ref, name) as Row | undefined;
    if (row) return fromRow(row);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const rows = this.#db.prepare("SELECT * FROM containers WHERE id LIKE ? || '%' LIMIT 2").all(ref) as Row[];
    if (rows.length > 1) throw new BerthError('INVALID_ARGUMENT', `multiple IDs found with provided prefix: ${ref}`);
    row = rows[0];
    return row ? fromRow(row) : undefined;
  }

  list(): ContainerRecord[] {
    return (this.#db.prepare('SELECT * FROM containers ORDER BY created DESC').all() as Row[]).map(fromRow);
  }

  /** Read-modify-write of one container's state inside one transaction. */
  updateState(id: string, fn: (s: ContainerState) => ContainerState): ContainerState {
    return immediate(this.#db, () => {
      const row = this.#db.prepare('SELECT state FROM containers WHERE id = ?').get(id) as { state: string } | undefined;
      if (!row) throw new BerthError('NOT_FOUND', `No such container: ${id}`);
      const next = fn(JSON.parse(row.state) as ContainerState);
      this.#db.prepare('UPDATE containers SET state = ? WHERE id = ?').run(JSON.stringify(next), id);
      return next;
    });
  }

  /** Replace a container's stored config (docker update). */
  updateConfig(id: string, config: RunConfig): void {
    immediate(this.#db, () => this.#db.prepare('UPDATE containers SET config = ? WHERE id = ?').run(JSON.stringify(config), id));
  }

  rename(id: string, newName: string): void {
    const name = newName.replace(/^\//, '');
    if (!NAME_RE.test(name)) throw new BerthError('INVALID_ARGUMENT', `invalid container name ${JSON.stringify(name)}`);
    try {
      immediate(this.#db, () => this.#db.prepare('UPDATE containers SET name = ? WHERE id = ?').run(name, id));
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new BerthError('CONFLICT', `the container name "/${name}" is already in use`);
      }
      throw err;
    }
  }

  remove(id: string): void {
    immediate(this.#db, () => this.#db.prepare('DELETE FROM containers WHERE id = ?').run(id));
  }

  /** Ids of containers using an image (for `rmi` without --force). */
  usingImage(imageId: string): string[] {
    return (this.#db.prepare('SELECT id FROM containers WHERE image_id = ?').all(imageId) as { id: string }[]).map((r) => r.id);
  }
}

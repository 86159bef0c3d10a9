import { migrate, openDatabase, type Db } from '../util/sqlite.js';
import type { SnapshotKind } from './types.js';

/** One snapshot record; `id` also names its directory `<root>/snapshots/<snapshotter>/<id>/`. */
export interface SnapshotRecord {
  id: number;
  snapshotter: string;
  key: string;
  kind: SnapshotKind;
  parentId: number | null;
  labels: Record<string, string>;
  created: number;
  updated: number;
  size: number | null;
  inodes: number | null;
}

const MIGRATIONS = [
  `CREATE TABLE snapshots (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     snapshotter TEXT NOT NULL,
     key TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('active', 'view', 'committed')),
     parent_id INTEGER REFERENCES snapshots(id),
     labels TEXT NOT NULL DEFAULT '{}',
     created INTEGER NOT NULL,
     updated INTEGER NOT NULL,
     size INTEGER,
     inodes INTEGER,
     UNIQUE (snapshotter, key)
   );
   CREATE INDEX snapshots_parent ON snapshots (parent_id);`,
];

interface Row {
  id: number;
  snapshotter: string;
  key: string;
  kind: SnapshotKind;
  parent_id: number | null;
  labels: string;
  created: number;
  updated: number;
  size: number | null;
  inodes: number | null;
}

function toRecord(r: Row): SnapshotRecord {
  return {
    id: r.id,
    snapshotter: r.snapshotter,
    key: r.key,
    kind: r.kind,
    parentId: r.parent_id,
    labels: JSON.parse(r.labels) as Record<string, string>,
    created: r.created,
    updated: r.updated,
    size: r.size,
    inodes: r.inodes,
  };
}

/** The snapshot tables of `<root>/metadata.db`, for one snapshotter. Callers wrap writes in `immediate()`. */
export class SnapshotMetadata {
  readonly db: Db;
  readonly #name: string;

  constructor(root: string, snapshotter: string) {
    this.db = openDatabase(`${root}/metadata.db`);
    migrate(this.db, 'snapshots', MIGRATIONS);
    this.#name = snapshotter;
  }

  get(key: string): SnapshotRecord | undefined {
    const r = this.db.prepare('SELECT * FROM snapshots WHERE snapshotter = ? AND key = ?').get(this.#name, key) as Row | undefined;
    return r && toRecord(r);
  }

  byId(id: number): SnapshotRecord | undefined {
    const r = this.db.prepare('SELECT * FROM snapshots WHERE id = ?').get(id) as Row | undefined;
    return r && toRecord(r);
  }

  /** The record and its parents, nearest first. */
  chain(rec: SnapshotRecord): SnapshotRecord[] {
    const out: SnapshotRecord[] = [];
    for (let p = rec.parentId; p !== null; ) {
      const r = this.byId(p);
      if (!r) break;
      out.push(r);
      p = r.parentId;
    }
    return out;
  }

  all(): SnapshotRecord[] {
    return (this.db.prepare('SELECT * FROM snapshots WHERE snapshotter = ? ORDER BY id').all(this.#name) as Row[]).map(toRecord);
  }

  ids(): Set<number> {
    const rows = this.db.prepare('SELECT id FROM snapshots WHERE snapshotter = ?').all(this.#name) as { id: number }[];
    return new Set(rows.map((r) => r.id));
  }

  hasChildren(id: number): boolean {
    return this.db.prepare('SELECT 1 FROM snapshots WHERE parent_id = ? LIMIT 1').get(id) !== undefined;
  }

  insert(key: string, kind: SnapshotKind, parentId: number | null, labels: Record<string, string>): number {
    const now = Date.now();
    const r = this.db
      .prepare('INSERT INTO snapshots (snapshotter, key, kind, parent_id, labels, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(this.#name, key, kind, parentId, JSON.stringify(labels), now, now);
    return Number(r.lastInsertRowid);
  }

  commit(id: number, name: string, labels: Record<string, string>, size: number, inodes: number): void {
    this.db
      .prepare("UPDATE snapshots SET key = ?, kind = 'committed', labels = ?, updated = ?, size = ?, inodes = ? WHERE id = ?")
      .run(name, JSON.stringify(labels), Date.now(), size, inodes, id);
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM snapshots WHERE id = ?').run(id);
  }
}

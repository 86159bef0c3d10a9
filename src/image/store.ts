import { BerthError } from '../errors/index.js';
import type { Descriptor } from '../spec/image.js';
import { immediate, migrate, type Db } from '../util/sqlite.js';

export interface ImageRecord {
  /** Fully qualified reference: `docker.io/library/busybox:latest` or `host/repo@sha256:...`. */
  name: string;
  target: Descriptor;
  created: number;
  updated: number;
}

const MIGRATIONS = [
  `CREATE TABLE images (
     name TEXT PRIMARY KEY,
     media_type TEXT NOT NULL,
     digest TEXT NOT NULL,
     size INTEGER NOT NULL,
     created INTEGER NOT NULL,
     updated INTEGER NOT NULL
   );
   CREATE INDEX images_digest ON images(digest);`,
];

interface Row {
  name: string;
  media_type: string;
  digest: string;
  size: number;
  created: number;
  updated: number;
}

function toRecord(r: Row): ImageRecord {
  return { name: r.name, target: { mediaType: r.media_type, digest: r.digest, size: r.size }, created: r.created, updated: r.updated };
}

/** Image names -> target descriptors (containerd's image store), in the shared SQLite file. */
export class ImageStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
    migrate(db, 'images', MIGRATIONS);
  }

  get(name: string): ImageRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM images WHERE name = ?').get(name) as Row | undefined;
    return r && toRecord(r);
  }

  list(): ImageRecord[] {
    return (this.#db.prepare('SELECT * FROM images ORDER BY name').all() as Row[]).map(toRecord);
  }

  byDigest(digest: string): ImageRecord[] {
    return (this.#db.prepare('SELECT * FROM images WHERE digest = ? ORDER BY name').all(digest) as Row[]).map(toRecord);
  }

  /** Create or move a name to a target; keeps the creation time of an existing name. */
  put(name: string, target: Descriptor): ImageRecord {
    const now = Date.now();
    immediate(this.#db, () => {
      this.#db
        .prepare(
          `INSERT INTO images (name, media_type, digest, size, created, updated) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET media_type = excluded.media_type, digest = excluded.digest, size = excluded.size, updated = excluded.updated`,
        )
        .run(name, target.mediaType, target.digest, target.size, now, now);
    });
    const r = this.get(name);
    if (!r) throw new BerthError('INTERNAL', `store image ${name}: record vanished`);
    return r;
  }

  delete(name: string): boolean {
    return this.#db.prepare('DELETE FROM images WHERE name = ?').run(name).changes > 0;
  }
}

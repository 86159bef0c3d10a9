import { randomBytes } from 'node:crypto';
import { BerthError } from '../errors/index.js';
import { immediate, type Db } from '../util/sqlite.js';
import { isAlive, SELF_START } from './proc.js';

/**
 * Leases keep content and snapshots from garbage collection (containerd's model): a pull holds
 * a process lease on everything it fetches until the image record exists, and the engine holds
 * a persistent lease per container on its image (kind "image", key = image id) and snapshots.
 * A process lease dies with its process; a persistent one lives until deleted.
 */
export type LeaseResourceKind = 'content' | 'snapshot' | 'image' | 'ingest';

export interface LeaseResource {
  kind: LeaseResourceKind;
  key: string;
}

export interface Lease {
  readonly id: string;
  add(resource: LeaseResource): void;
  release(): void;
}

export class LeaseManager {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** A lease that dies with this process (or when released). */
  createProcessLease(prefix = 'pull'): Lease {
    const id = `${prefix}-${process.pid}-${randomBytes(6).toString('hex')}`;
    this.#db.prepare('INSERT INTO leases (id, pid, start, created) VALUES (?, ?, ?, ?)').run(id, process.pid, SELF_START, Date.now());
    return this.#handle(id);
  }

  /** A lease that lives until `delete(id)`: e.g. `container/<id>` holding its image. */
  createPersistent(id: string, resources: LeaseResource[], labels: Record<string, string> = {}): Lease {
    immediate(this.#db, () => {
      const exists = this.#db.prepare('SELECT 1 FROM leases WHERE id = ?').get(id);
      if (exists) throw new BerthError('ALREADY_EXISTS', `create lease ${JSON.stringify(id)}: already exists`);
      this.#db.prepare('INSERT INTO leases (id, pid, start, created, labels) VALUES (?, NULL, NULL, ?, ?)').run(id, Date.now(), JSON.stringify(labels));
      for (const r of resources) this.#insert(id, r);
    });
    return this.#handle(id);
  }

  delete(id: string): void {
    this.#db.prepare('DELETE FROM leases WHERE id = ?').run(id);
  }

  /** Leases whose holder is gone: removed so that GC can free what they held. */
  pruneDead(): void {
    const rows = this.#db.prepare('SELECT id, pid, start FROM leases WHERE pid IS NOT NULL').all() as { id: string; pid: number; start: string }[];
    for (const r of rows) if (!isAlive(r.pid, r.start)) this.delete(r.id);
  }

  /** Everything held by a live lease, by kind. */
  resources(): Map<LeaseResourceKind, Set<string>> {
    this.pruneDead();
    const out = new Map<LeaseResourceKind, Set<string>>();
    const rows = this.#db.prepare('SELECT kind, key FROM lease_resources').all() as { kind: LeaseResourceKind; key: string }[];
    for (const r of rows) {
      let s = out.get(r.kind);
      if (!s) out.set(r.kind, (s = new Set()));
      s.add(r.key);
    }
    return out;
  }

  /** Leases holding one resource, e.g. containers using an image. */
  holders(kind: LeaseResourceKind, key: string): string[] {
    this.pruneDead();
    const rows = this.#db.prepare('SELECT lease FROM lease_resources WHERE kind = ? AND key = ?').all(kind, key) as { lease: string }[];
    return rows.map((r) => r.lease);
  }

  #insert(id: string, r: LeaseResource): void {
    this.#db.prepare('INSERT OR IGNORE INTO lease_resources (lease, kind, key) VALUES (?, ?, ?)').run(id, r.kind, r.key);
  }

  #handle(id: string): Lease {
    return {
      id,
      add: (r) => this.#insert(id, r),
      release: () => this.delete(id),
    };
  }
}

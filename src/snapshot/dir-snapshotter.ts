import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { BerthError, withCleanupError } from '../errors/index.js';
import { immediate } from '../util/sqlite.js';
import { SnapshotMetadata, type SnapshotRecord } from './metadata.js';
import type { Mount, SnapshotInfo, SnapshotKind, Snapshotter, SnapshotterName, Usage } from './types.js';
import { diskUsage } from './usage.js';
import { pidAlive } from '../util/process.js';

/**
 * What overlay and native share: records in SQLite, one directory per snapshot under
 * `<root>/snapshots/<name>/<id>/`, and crash-safe creation and removal.
 *
 * Creation fills a temporary dir (`new-<pid>-*`), then in one write transaction inserts the
 * record and renames the dir to its id; removal deletes the record and renames the dir to
 * `rm-<pid>-*` in one transaction, then deletes it. So a dir named by an id that has no
 * record, or a `new-`/`rm-` dir of a dead process, is garbage: cleanup() deletes it (under
 * the same write lock, so it never races a creation in another process).
 */
export abstract class DirSnapshotter implements Snapshotter {
  abstract readonly name: SnapshotterName;
  readonly root: string;
  protected readonly meta: SnapshotMetadata;
  readonly #dir: string;

  protected constructor(root: string, name: SnapshotterName) {
    if (/[:,]/.test(root)) throw new BerthError('INVALID_ARGUMENT', `snapshot root ${JSON.stringify(root)}: must not contain ":" or ","`);
    this.root = root;
    this.#dir = `${root}/snapshots/${name}`;
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    this.meta = new SnapshotMetadata(root, name);
  }

  /** The directory of snapshot `id`. */
  protected dir(id: number): string {
    return `${this.#dir}/${id}`;
  }

  protected get base(): string {
    return this.#dir;
  }

  /** Fill a new snapshot's directory `tmp` (not yet named by its id). */
  protected abstract fill(tmp: string, kind: SnapshotKind, parents: SnapshotRecord[]): Promise<void>;
  /** Mounts for a record whose parents (nearest first) are `parents`. */
  protected abstract mountsOf(rec: SnapshotRecord, parents: SnapshotRecord[]): Mount[];
  /** The tree that holds the snapshot's own content (for usage and unpacking). */
  protected abstract contentDir(id: number): string;
  /** Hooks around commit and removal (overlay keeps short links for long lowerdir lists). */
  protected committed(_id: number): void {}
  protected removed(_id: number): void {}

  prepare(key: string, parent?: string, labels: Record<string, string> = {}): Promise<Mount[]> {
    return this.#create('active', key, parent, labels);
  }

  view(key: string, parent: string, labels: Record<string, string> = {}): Promise<Mount[]> {
    return this.#create('view', key, parent, labels);
  }

  async #create(kind: SnapshotKind, key: string, parent: string | undefined, labels: Record<string, string>): Promise<Mount[]> {
    const action = `${kind === 'view' ? 'view' : 'prepare'} snapshot ${JSON.stringify(key)}`;
    if (!key) throw new BerthError('INVALID_ARGUMENT', `${action}: empty key`);
    if (this.meta.get(key)) throw new BerthError('ALREADY_EXISTS', `${action}: already exists`);
    const parentRec = parent === undefined || parent === '' ? undefined : this.#committed(parent, action);
    const parents = parentRec ? [parentRec, ...this.meta.chain(parentRec)] : [];
    const tmp = mkdtempSync(`${this.#dir}/new-${process.pid}-`);
    let rec: SnapshotRecord;
    try {
      await this.fill(tmp, kind, parents);
      rec = immediate(this.meta.db, () => {
        if (this.meta.get(key)) throw new BerthError('ALREADY_EXISTS', `${action}: already exists`);
        if (parentRec && this.meta.byId(parentRec.id)?.kind !== 'committed') {
          throw new BerthError('NOT_FOUND', `${action}: parent ${JSON.stringify(parent)} was removed`);
        }
        const id = this.meta.insert(key, kind, parentRec?.id ?? null, labels);
        const target = this.dir(id);
        // An id can come back after a rolled-back transaction; a dir by that name is garbage.
        if (existsSync(target)) rmSync(target, { recursive: true, force: true });
        renameSync(tmp, target);
        return this.meta.byId(id) as SnapshotRecord;
      });
    } catch (err) {
      let e: unknown = BerthError.wrap(err, action);
      try {
        rmSync(tmp, { recursive: true, force: true });
      } catch (cleanupErr) {
        e = withCleanupError(e, cleanupErr);
      }
      throw e;
    }
    return this.mountsOf(rec, parents);
  }

  #committed(name: string, action: string): SnapshotRecord {
    const rec = this.meta.get(name);
    if (!rec) throw new BerthError('NOT_FOUND', `${action}: parent ${JSON.stringify(name)} not found`);
    if (rec.kind !== 'committed') {
      throw new BerthError('FAILED_PRECONDITION', `${action}: parent ${JSON.stringify(name)} is not committed`);
    }
    return rec;
  }

  #get(key: string, action: string): SnapshotRecord {
    const rec = this.meta.get(key);
    if (!rec) throw new BerthError('NOT_FOUND', `${action}: snapshot ${JSON.stringify(key)} not found`);
    return rec;
  }

  async commit(name: string, key: string, labels: Record<string, string> = {}): Promise<void> {
    const action = `commit snapshot ${JSON.stringify(key)} as ${JSON.stringify(name)}`;
    if (!name) throw new BerthError('INVALID_ARGUMENT', `${action}: empty name`);
    const rec = this.#get(key, action);
    if (rec.kind !== 'active') throw new BerthError('FAILED_PRECONDITION', `${action}: ${rec.kind} snapshots cannot be committed`);
    if (this.meta.get(name)) throw new BerthError('ALREADY_EXISTS', `${action}: ${JSON.stringify(name)} already exists`);
    const usage = diskUsage(this.contentDir(rec.id));
    immediate(this.meta.db, () => {
      const now = this.meta.get(key);
      if (!now || now.id !== rec.id || now.kind !== 'active') throw new BerthError('NOT_FOUND', `${action}: snapshot was removed`);
      if (this.meta.get(name)) throw new BerthError('ALREADY_EXISTS', `${action}: ${JSON.stringify(name)} already exists`);
      this.meta.commit(rec.id, name, { ...rec.labels, ...labels }, usage.size, usage.inodes);
    });
    this.committed(rec.id);
  }

  async remove(key: string): Promise<void> {
    const action = `remove snapshot ${JSON.stringify(key)}`;
    const trash = immediate(this.meta.db, () => {
      const rec = this.#get(key, action);
      if (this.meta.hasChildren(rec.id)) {
        throw new BerthError('FAILED_PRECONDITION', `${action}: other snapshots have it as parent; remove them first`);
      }
      this.meta.delete(rec.id);
      const dir = this.dir(rec.id);
      const to = `${this.#dir}/rm-${process.pid}-${rec.id}-${Date.now().toString(36)}`;
      if (existsSync(dir)) renameSync(dir, to);
      return { id: rec.id, to };
    });
    this.removed(trash.id);
    try {
      rmSync(trash.to, { recursive: true, force: true });
    } catch (err) {
      throw BerthError.wrap(err, `${action}: delete its directory`);
    }
  }

  async mounts(key: string): Promise<Mount[]> {
    const rec = this.#get(key, `mounts of snapshot ${JSON.stringify(key)}`);
    if (rec.kind === 'committed') {
      throw new BerthError('FAILED_PRECONDITION', `mounts of snapshot ${JSON.stringify(key)}: committed snapshots have no mounts; view or prepare on top`);
    }
    return this.mountsOf(rec, this.meta.chain(rec));
  }

  async layerDir(key: string): Promise<string> {
    const rec = this.#get(key, `layer dir of snapshot ${JSON.stringify(key)}`);
    if (rec.kind !== 'active') throw new BerthError('FAILED_PRECONDITION', `layer dir of snapshot ${JSON.stringify(key)}: not active`);
    return this.contentDir(rec.id);
  }

  async stat(key: string): Promise<SnapshotInfo> {
    return this.#info(this.#get(key, 'stat snapshot'));
  }

  async walk(): Promise<SnapshotInfo[]> {
    return this.meta.all().map((r) => this.#info(r));
  }

  async usage(key: string): Promise<Usage> {
    const rec = this.#get(key, 'usage of snapshot');
    if (rec.kind === 'committed' && rec.size !== null && rec.inodes !== null) return { size: rec.size, inodes: rec.inodes };
    return diskUsage(this.contentDir(rec.id));
  }

  async cleanup(): Promise<void> {
    const garbage = immediate(this.meta.db, () => {
      const ids = this.meta.ids();
      const out: string[] = [];
      for (const name of readdirSync(this.#dir)) {
        const m = /^(?:new|rm)-(\d+)-/.exec(name);
        if (m) {
          if (!pidAlive(Number(m[1]))) out.push(name);
        } else if (/^\d+$/.test(name) && !ids.has(Number(name))) {
          const to = `rm-${process.pid}-${name}-${Date.now().toString(36)}`;
          renameSync(`${this.#dir}/${name}`, `${this.#dir}/${to}`);
          out.push(to);
        }
      }
      return out;
    });
    for (const name of garbage) rmSync(`${this.#dir}/${name}`, { recursive: true, force: true });
  }

  #info(rec: SnapshotRecord): SnapshotInfo {
    const parent = rec.parentId === null ? undefined : this.meta.byId(rec.parentId)?.key;
    return {
      key: rec.key,
      kind: rec.kind,
      ...(parent === undefined ? {} : { parent }),
      labels: rec.labels,
      created: new Date(rec.created),
      updated: new Date(rec.updated),
    };
  }
}


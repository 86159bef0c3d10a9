import { createReadStream, promises as fsp, existsSync, readdirSync, rmSync, statSync, type ReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BerthError } from '../errors/index.js';
import { migrate, openDatabase, type Db } from '../util/sqlite.js';
import { digestHex, newDigester } from './digest.js';
import { liveIngestLocks, lockIngest } from './lock.js';
import { LeaseManager } from './lease.js';
import { CONTENT_MIGRATIONS } from './schema.js';

export interface Expected {
  digest: string;
  size: number;
}

/** What an ingest callback writes into: bytes land in the ingest file and are hashed. */
export interface IngestWriter {
  /** Bytes already in the ingest from an interrupted attempt: fetch from here (Range). */
  readonly offset: number;
  /** Bytes in the ingest now. */
  readonly written: number;
  write(chunk: Uint8Array): Promise<void>;
  /** Drop what is there and start from byte 0 (the server ignored a Range request). */
  reset(): Promise<void>;
  /** The bytes kept from an interrupted attempt (`offset` of them), to replay to a reader. */
  readExisting(): Readable;
}

export type IngestResult = 'committed' | 'exists';

/**
 * A content-addressed store laid out like an OCI image layout: `<root>/content/blobs/sha256/<hex>`.
 * Writes land in `<root>/content/ingest/<ref>/data` and become content only after their size
 * and digest verify (fsync, rename, fsync dir), so a kill at any moment leaves either no blob
 * or a whole, verified one. One writer per ref across processes (lock.ts); a partial ingest
 * stays for the next attempt to resume.
 */
export class ContentStore {
  readonly root: string;
  readonly db: Db;
  readonly leases: LeaseManager;
  readonly #blobs: string;
  readonly #ingest: string;

  constructor(root: string, db?: Db) {
    this.root = root;
    this.#blobs = join(root, 'content', 'blobs', 'sha256');
    this.#ingest = join(root, 'content', 'ingest');
    this.db = db ?? openDatabase(join(root, 'metadata.db'));
    migrate(this.db, 'content', CONTENT_MIGRATIONS);
    this.leases = new LeaseManager(this.db);
  }

  path(digest: string): string {
    return join(this.#blobs, digestHex(digest));
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  /** Size of a committed blob, or undefined. */
  size(digest: string): number | undefined {
    try {
      return statSync(this.path(digest)).size;
    } catch {
      return undefined;
    }
  }

  /** Read a whole blob, refusing one larger than `max` bytes (manifests, configs). */
  async read(digest: string, max = 4 << 20): Promise<Buffer> {
    const size = this.size(digest);
    if (size === undefined) throw new BerthError('NOT_FOUND', `read content ${digest}: not found`);
    if (size > max) throw new BerthError('RESOURCE_EXHAUSTED', `read content ${digest}: ${size} bytes is over the ${max}-byte limit`);
    return fsp.readFile(this.path(digest));
  }

  createReadStream(digest: string, start = 0): ReadStream {
    return createReadStream(this.path(digest), { start, highWaterMark: 1 << 20 });
  }

  /** Store bytes held in memory (manifests, configs, small blobs). */
  async put(data: Uint8Array, expected?: Expected): Promise<string> {
    const digest = expected?.digest ?? `sha256:${newDigester().update(data).digest('hex')}`;
    await this.ingest({ digest, size: expected?.size ?? data.length }, async (w) => {
      if (w.offset > 0) await w.reset();
      await w.write(data);
    });
    return digest;
  }

  /**
   * Write one blob through `fill`, under the ref's lock: returns 'exists' without calling
   * `fill` when the blob is (or becomes, by another process) committed. Lease the blob
   * before calling this, so that GC cannot take it between this answer and its use. On a size or digest
   * mismatch the ingest is discarded and nothing is stored; on any other failure the bytes
   * written so far stay for a resume.
   */
  async ingest(expected: Expected, fill: (w: IngestWriter) => Promise<void>, signal?: AbortSignal): Promise<IngestResult> {
    const hex = digestHex(expected.digest);
    if (!Number.isSafeInteger(expected.size) || expected.size < 0) {
      throw new BerthError('INVALID_ARGUMENT', `ingest ${expected.digest}: invalid size ${expected.size}`);
    }
    // Checked under the lock only: GC deletes under the same lock (deleteUnused), so a blob
    // found here stays while the caller's lease holds it.
    const ref = `sha256-${hex}`;
    const lock = await lockIngest(this.db, ref, signal);
    try {
      const dir = join(this.#ingest, ref);
      if (this.has(expected.digest)) {
        // A writer killed between its rename and its cleanup leaves an ingest dir behind.
        await fsp.rm(dir, { recursive: true, force: true });
        return 'exists';
      }
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      const dataPath = join(dir, 'data');
      const fh = await fsp.open(dataPath, 'a+', 0o644);
      let closed = false;
      const close = async () => {
        if (!closed) {
          closed = true;
          await fh.close();
        }
      };
      try {
        let hash = newDigester();
        let written = 0;
        const existing = (await fh.stat()).size;
        if (existing > expected.size) {
          await fh.truncate(0);
        } else if (existing > 0) {
          // Rebuild the hash state over the bytes kept from an interrupted attempt.
          for await (const chunk of createReadStream(dataPath, { end: existing - 1, highWaterMark: 1 << 20 })) {
            hash.update(chunk as Buffer);
          }
          written = existing;
        }
        const offset = written;
        const writer: IngestWriter = {
          offset,
          get written() {
            return written;
          },
          async write(chunk) {
            if (written + chunk.length > expected.size) {
              throw new BerthError('INVALID_ARGUMENT', `blob ${expected.digest}: more data than the ${expected.size} bytes its descriptor says`);
            }
            hash.update(chunk);
            let off = 0;
            while (off < chunk.length) {
              const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
              off += bytesWritten;
            }
            written += chunk.length;
          },
          async reset() {
            await fh.truncate(0);
            hash = newDigester();
            written = 0;
          },
          readExisting() {
            return offset > 0 ? createReadStream(dataPath, { start: 0, end: offset - 1, highWaterMark: 1 << 20 }) : Readable.from([]);
          },
        };
        try {
          await fill(writer);
        } catch (err) {
          // A verification failure inside fill (oversize) leaves nothing worth resuming, and
          // an empty ingest is nothing to resume either.
          if ((err instanceof BerthError && err.code === 'INVALID_ARGUMENT') || written === 0) await discard(dir, close);
          throw err;
        }
        if (written !== expected.size) {
          await discard(dir, close);
          throw new BerthError('INVALID_ARGUMENT', `blob ${expected.digest}: got ${written} bytes, its descriptor says ${expected.size}`);
        }
        const got = `sha256:${hash.digest('hex')}`;
        if (got !== expected.digest) {
          await discard(dir, close);
          throw new BerthError('INVALID_ARGUMENT', `blob ${expected.digest}: digest mismatch, content hashes to ${got}`);
        }
        await fh.sync();
        await close();
        await fsp.mkdir(this.#blobs, { recursive: true, mode: 0o755 });
        await fsp.rename(dataPath, this.path(expected.digest));
        await syncDir(this.#blobs);
        await fsp.rm(dir, { recursive: true, force: true });
        return 'committed';
      } finally {
        await close();
      }
    } finally {
      lock.release();
    }
  }

  setLabel(digest: string, key: string, value: string): void {
    this.db.prepare('INSERT INTO content_labels (digest, key, value) VALUES (?, ?, ?) ON CONFLICT(digest, key) DO UPDATE SET value = excluded.value').run(digest, key, value);
  }

  labels(digest: string): Record<string, string> {
    const rows = this.db.prepare('SELECT key, value FROM content_labels WHERE digest = ?').all(digest) as { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  /** Every committed blob's digest. */
  list(): string[] {
    try {
      return readdirSync(this.#blobs)
        .filter((n) => /^[a-f0-9]{64}$/.test(n))
        .map((n) => `sha256:${n}`);
    } catch {
      return [];
    }
  }

  /**
   * Delete a blob under its ingest lock if `unused()` still says so there: the GC side of
   * the lease protocol (a writer leases a blob before it looks for it under the lock).
   */
  async deleteUnused(digest: string, unused: () => boolean): Promise<boolean> {
    const lock = await lockIngest(this.db, `sha256-${digestHex(digest)}`);
    try {
      if (!unused()) return false;
      await this.delete(digest);
      return true;
    } finally {
      lock.release();
    }
  }

  async delete(digest: string): Promise<void> {
    await fsp.rm(this.path(digest), { force: true });
    this.db.prepare('DELETE FROM content_labels WHERE digest = ?').run(digest);
  }

  /** Ingests nobody holds (left by a killed process), with their sizes. */
  staleIngests(): { ref: string; size: number }[] {
    let names: string[];
    try {
      names = readdirSync(this.#ingest);
    } catch {
      return [];
    }
    const live = liveIngestLocks(this.db);
    return names
      .filter((n) => !live.has(n))
      .map((ref) => {
        let size = 0;
        try {
          size = statSync(join(this.#ingest, ref, 'data')).size;
        } catch {
          // an ingest dir without data: nothing to resume
        }
        return { ref, size };
      });
  }

  removeIngest(ref: string): void {
    if (!/^sha256-[a-f0-9]{64}$/.test(ref)) throw new BerthError('INVALID_ARGUMENT', `remove ingest ${JSON.stringify(ref)}: invalid ref`);
    rmSync(join(this.#ingest, ref), { recursive: true, force: true });
  }
}

async function discard(dir: string, close: () => Promise<void>): Promise<void> {
  await close();
  await fsp.rm(dir, { recursive: true, force: true });
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../errors/index.js';
import { immediate, type Db } from '../util/sqlite.js';
import { isAlive, SELF_START } from './proc.js';

/** Refs this process holds, so that two pulls in one process also wait for each other. */
const heldHere = new Set<string>();

export interface IngestLock {
  readonly ref: string;
  release(): void;
}

/**
 * Take the exclusive lock of one ingest ref: a row in SQLite owned by this process (pid and
 * start time). A row whose owner died (kill -9, crash) is stale and taken over, so a lock can
 * never outlive its holder. Waits, polling, while another live process holds it.
 */
export async function lockIngest(db: Db, ref: string, signal?: AbortSignal): Promise<IngestLock> {
  let delay = 20;
  for (;;) {
    signal?.throwIfAborted();
    if (!heldHere.has(ref) && tryLock(db, ref)) {
      heldHere.add(ref);
      let released = false;
      return {
        ref,
        release() {
          if (released) return;
          released = true;
          heldHere.delete(ref);
          db.prepare('DELETE FROM content_ingest_locks WHERE ref = ? AND pid = ? AND start = ?').run(ref, process.pid, SELF_START);
        },
      };
    }
    await sleep(delay, undefined, signal ? { signal } : undefined).catch((err) => {
      throw new BerthError('CANCELED', `wait for ingest lock ${ref}: canceled`, { cause: err });
    });
    delay = Math.min(delay * 2, 200);
  }
}

function tryLock(db: Db, ref: string): boolean {
  return immediate(db, () => {
    const row = db.prepare('SELECT pid, start FROM content_ingest_locks WHERE ref = ?').get(ref) as
      | { pid: number; start: string }
      | undefined;
    if (row) {
      const mine = row.pid === process.pid && row.start === SELF_START;
      // Our own row without an in-process holder is left from a dead in-process attempt.
      if (!mine && isAlive(row.pid, row.start)) return false;
    }
    db.prepare('INSERT OR REPLACE INTO content_ingest_locks (ref, pid, start, since) VALUES (?, ?, ?, ?)').run(
      ref,
      process.pid,
      SELF_START,
      Date.now(),
    );
    return true;
  });
}

/** Refs whose lock is held by a live process: their ingest must not be cleaned up. */
export function liveIngestLocks(db: Db): Set<string> {
  const rows = db.prepare('SELECT ref, pid, start FROM content_ingest_locks').all() as { ref: string; pid: number; start: string }[];
  return new Set(rows.filter((r) => isAlive(r.pid, r.start)).map((r) => r.ref));
}

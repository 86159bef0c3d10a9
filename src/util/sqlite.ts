import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

// Imported directly (not through util/index.ts) so that the runtime bundle never loads SQLite.
export type Db = Database.Database;

const open = new Map<string, Db>();

/**
 * The one metadata database under a root dir (`<root>/metadata.db`), shared by the modules
 * that keep metadata (content, images, snapshots, containers). WAL mode and a busy timeout
 * let several berth processes and the daemon use it at once; write in transactions
 * (`db.transaction(fn)` or `immediate(db, fn)`), never read-modify-write across them.
 */
export function openDatabase(path: string): Db {
  const known = open.get(path);
  if (known) return known;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path, { timeout: 10_000 });
  // Two processes opening a new file at once: switching it to WAL needs the file to itself and
  // can answer SQLITE_BUSY without waiting, so retry for a bounded time.
  busyRetry(() => db.pragma('journal_mode = WAL'));
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  busyRetry(() => db.exec('CREATE TABLE IF NOT EXISTS schema_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL)'));
  open.set(path, db);
  return db;
}

function busyRetry<T>(fn: () => T): T {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (!code.startsWith('SQLITE_BUSY') && !code.startsWith('SQLITE_LOCKED')) throw err;
      if (Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

/**
 * Bring one module's tables to the latest version: `migrations[i]` takes version i to i+1.
 * Each module owns its own tables and its own migration list.
 */
export function migrate(db: Db, module: string, migrations: string[]): void {
  // Already current (every command after the first): one read, no write lock taken.
  const now = db.prepare('SELECT version FROM schema_versions WHERE module = ?').get(module) as { version: number } | undefined;
  if (now?.version === migrations.length) return;
  busyRetry(() => db.transaction(() => {
    const row = db.prepare('SELECT version FROM schema_versions WHERE module = ?').get(module) as
      | { version: number }
      | undefined;
    const from = row?.version ?? 0;
    for (let v = from; v < migrations.length; v++) db.exec(migrations[v]);
    if (from !== migrations.length) {
      db.prepare('INSERT INTO schema_versions (module, version) VALUES (?, ?) ON CONFLICT(module) DO UPDATE SET version = excluded.version').run(module, migrations.length);
    }
  }).immediate());
}

/** Run fn in a BEGIN IMMEDIATE transaction: takes the write lock up front, so no upgrade deadlocks. */
export function immediate<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

export function closeDatabases(): void {
  for (const db of open.values()) db.close();
  open.clear();
}

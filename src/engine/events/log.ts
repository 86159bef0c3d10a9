import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmdirSync, statSync, watch, writeSync, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EngineEvent, EventType } from './types.js';

/** Rotate the log when it grows past this (the previous file is kept as `<path>.1`). */
const DEFAULT_MAX_BYTES = 1 << 20;
/** A line longer than this is not written: write(2) on an O_APPEND file is atomic only for small writes in practice. */
const MAX_LINE = 16 * 1024;

export interface FollowOptions {
  /** Replay stored events from this time (ms since the epoch); absent: only new ones. */
  since?: number;
  /** Stop after this time (ms since the epoch): replay ends there, following ends then. */
  until?: number;
  signal?: AbortSignal;
  /** Poll interval when fs.watch misses a change (other filesystems, overlays). */
  pollMs?: number;
}

/**
 * The engine's event log: one JSON object a line in `<state>/events/events.jsonl`, shared by
 * every berth process of a state dir (CLI runs, the daemon, monitors' exit commands). Each
 * event is one write(2) of one whole line on an O_APPEND descriptor, so concurrent writers
 * never interleave partial lines (POSIX: the offset move and the write are one atomic step;
 * Linux regular files complete such small writes whole). Size-capped: past `maxBytes` the
 * file is renamed to `<path>.1` (replacing the older one) under a mkdir lock, so a rotation
 * race loses no file. Readers replay both files and follow the current one across rotations.
 */
export class EventLog {
  readonly path: string;
  readonly #maxBytes: number;
  readonly #onError: (err: unknown) => void;

  constructor(path: string, opts: { maxBytes?: number; onError?: (err: unknown) => void } = {}) {
    this.path = path;
    this.#maxBytes = opts.maxBytes ?? (Number(process.env.BERTH_EVENTS_MAX_BYTES) || DEFAULT_MAX_BYTES);
    this.#onError = opts.onError ?? (() => {});
  }

  /** Record an event. Never throws: an event that cannot be written must not fail the operation. */
  append(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    const e: EngineEvent = { time: now(), type, action, id, attributes };
    try {
      const line = Buffer.from(JSON.stringify(e) + '\n');
      if (line.length > MAX_LINE) throw new Error(`event ${type} ${action} ${id}: line of ${line.length} bytes is too long`);
      ensureDir(dirname(this.path));
      const fd = openSync(this.path, 'a', 0o600);
      try {
        const n = writeSync(fd, line);
        if (n !== line.length) throw new Error(`append to ${this.path}: short write ${n} of ${line.length}`);
        if (fstatSync(fd).size > this.#maxBytes) this.#rotate();
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      this.#onError(err);
    }
    return e;
  }

  #rotate(): void {
    const lock = `${this.path}.lock`;
    try {
      mkdirSync(lock);
    } catch {
      // someone else rotates; a lock left by a crashed writer goes after a while
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10_000) rmdirSync(lock);
      } catch {
        /* gone meanwhile */
      }
      return;
    }
    try {
      // checked again under the lock: the file may have been rotated since our write
      if (statSync(this.path).size > this.#maxBytes) renameSync(this.path, `${this.path}.1`);
    } finally {
      rmdirSync(lock);
    }
  }

  /** The stored events between since and until (both in ms, inclusive), oldest first. */
  read(opts: { since?: number; until?: number } = {}): EngineEvent[] {
    const out: EngineEvent[] = [];
    for (const p of [`${this.path}.1`, this.path]) {
      const r = new LineReader(p);
      if (!r.open()) continue;
      try {
        for (const e of r.drain()) if (inRange(e, opts.since, opts.until)) out.push(e);
      } finally {
        r.close();
      }
    }
    return out;
  }

  /**
   * Replay (with `since`) and then follow new events, calling `onEvent` in log order, until
   * `until` passes or `signal` aborts. Resolves when it stops. Changes are seen through
   * fs.watch on the log's directory, and a poll as fallback.
   */
  follow(onEvent: (e: EngineEvent) => void, opts: FollowOptions = {}): Promise<void> {
    const { since, until, signal } = opts;
    ensureDir(dirname(this.path));
    let cur = new LineReader(this.path);
    if (since !== undefined) {
      const old = new LineReader(`${this.path}.1`);
      if (old.open()) {
        try {
          for (const e of old.drain()) if (inRange(e, since, until)) onEvent(e);
        } finally {
          old.close();
        }
      }
    }
    const opened = cur.open();
    if (opened && since === undefined) cur.skipToEnd();
    return new Promise<void>((resolve) => {
      let stopped = false;
      let watcher: FSWatcher | undefined;
      const stop = () => {
        if (stopped) return;
        stopped = true;
        clearInterval(poll);
        clearTimeout(timer);
        watcher?.close();
        signal?.removeEventListener('abort', stop);
        cur.close();
        resolve();
      };
      const tick = () => {
        if (stopped) return;
        try {
          for (;;) {
            if (!cur.isOpen() && !cur.open()) return;
            for (const e of cur.drain()) {
              if (inRange(e, since, until)) onEvent(e);
              if (until !== undefined && e.time > until) return stop();
            }
            // rotated: the old file is drained through our descriptor; go on with the new one
            if (!cur.replaced()) return;
            cur.close();
            cur = new LineReader(this.path);
          }
        } catch {
          /* a read raced a rotation: the next tick retries */
        }
      };
      tick();
      if (stopped) return;
      const poll = setInterval(tick, opts.pollMs ?? 250);
      const timer = until !== undefined ? setTimeout(() => (tick(), stop()), Math.max(0, until - Date.now()) + 50) : undefined;
      try {
        watcher = watch(dirname(this.path), { persistent: false }, () => tick());
        watcher.on('error', () => watcher?.close());
      } catch {
        /* the poll is enough */
      }
      if (signal?.aborted) stop();
      else signal?.addEventListener('abort', stop);
    });
  }
}

/**
 * The log's directory, inside the state dir but never the state dir itself: a late writer
 * (an exit command still running while a test removes its temp dirs) must not bring it back.
 */
function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

function now(): number {
  // sub-millisecond, so events of one process keep their order when sorted by time
  return Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000;
}

function inRange(e: EngineEvent, since: number | undefined, until: number | undefined): boolean {
  return (since === undefined || e.time >= since) && (until === undefined || e.time <= until);
}

/** Reads whole lines from one file by descriptor, keeping a partial last line for later. */
class LineReader {
  readonly #path: string;
  #fd: number | undefined;
  #ino = 0;
  #pos = 0;
  #rest = Buffer.alloc(0);

  constructor(path: string) {
    this.#path = path;
  }

  open(): boolean {
    try {
      this.#fd = openSync(this.#path, 'r');
    } catch {
      return false;
    }
    this.#ino = fstatSync(this.#fd).ino;
    return true;
  }

  isOpen(): boolean {
    return this.#fd !== undefined;
  }

  skipToEnd(): void {
    if (this.#fd !== undefined) this.#pos = fstatSync(this.#fd).size;
  }

  /** The events appended since the last call (complete lines only; a malformed line is skipped). */
  drain(): EngineEvent[] {
    if (this.#fd === undefined) return [];
    const out: EngineEvent[] = [];
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = readSync(this.#fd, buf, 0, buf.length, this.#pos);
      if (n <= 0) break;
      this.#pos += n;
      // split on bytes, so a read that ends inside a multi-byte character keeps it whole
      const chunk = Buffer.concat([this.#rest, buf.subarray(0, n)]);
      const end = chunk.lastIndexOf(0x0a);
      this.#rest = Buffer.from(chunk.subarray(end + 1));
      if (end < 0) continue;
      for (const l of chunk.subarray(0, end).toString('utf8').split('\n')) {
        if (!l) continue;
        try {
          out.push(JSON.parse(l) as EngineEvent);
        } catch {
          /* not ours or torn by a crash: skip */
        }
      }
    }
    return out;
  }

  /** Whether the path now names another file (rotation) than the one we read. */
  replaced(): boolean {
    try {
      return statSync(this.#path).ino !== this.#ino;
    } catch {
      return true;
    }
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

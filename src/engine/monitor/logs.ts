import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../../errors/index.js';
import { monitorPid } from './exit.js';
import type { FollowLogsOptions, LogEntry } from './types.js';

interface RawEntry {
  log?: string;
  stream?: string;
  time?: string;
}

/** One json-file line -> entry (undefined for a torn or foreign line). */
export function parseLogLine(text: string): LogEntry | undefined {
  let j: RawEntry;
  try {
    j = JSON.parse(text) as RawEntry;
  } catch {
    return undefined;
  }
  if (typeof j.log !== 'string' || typeof j.time !== 'string') return undefined;
  const partial = !j.log.endsWith('\n');
  return {
    stream: j.stream === 'stderr' ? 'stderr' : 'stdout',
    line: partial ? j.log : j.log.slice(0, -1),
    time: j.time,
    partial,
  };
}

/** Milliseconds since the epoch of since (Date, unix seconds with fraction, or RFC 3339). */
export function sinceMs(since: Date | number | string): number {
  if (since instanceof Date) return since.getTime();
  if (typeof since === 'number') return since * 1000;
  if (/^\d+(\.\d+)?$/.test(since)) return Number(since) * 1000;
  const ms = Date.parse(since);
  if (Number.isNaN(ms)) throw new BerthError('INVALID_ARGUMENT', `logs --since ${JSON.stringify(since)}: not a time`);
  return ms;
}

/** The rotated files of logPath, oldest first, then logPath itself (docker's json-file names). */
export function logFiles(logPath: string): string[] {
  const dir = dirname(logPath);
  const base = basename(logPath);
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [logPath];
  }
  const rotated = names
    .map((n) => (n.startsWith(`${base}.`) ? Number(n.slice(base.length + 1)) : NaN))
    .filter((i) => Number.isInteger(i) && i > 0)
    .sort((a, b) => b - a)
    .map((i) => `${logPath}.${i}`);
  return [...rotated, logPath];
}

/** Reads complete lines from a file descriptor, remembering where it stopped. */
class LineReader {
  #fd: number;
  #pos = 0;
  #rest: Buffer = Buffer.alloc(0);
  readonly ino: number;

  constructor(path: string) {
    this.#fd = openSync(path, 'r');
    this.ino = fstatSync(this.#fd).ino;
  }

  /**
   * Complete lines, at most about 1 MiB of them per call (call again while `more`); with
   * `eof` a last unterminated line is returned too.
   */
  read(eof = false): { lines: string[]; more: boolean } {
    const size = fstatSync(this.#fd).size;
    if (size < this.#pos) {
      // truncated in place (max-file 1): start over
      this.#pos = 0;
      this.#rest = Buffer.alloc(0);
    }
    const buf = Buffer.alloc(Math.min(1 << 20, Math.max(0, size - this.#pos)));
    const n = buf.length ? readSync(this.#fd, buf, 0, buf.length, this.#pos) : 0;
    this.#pos += n;
    // split on bytes: a chunk may end inside a multi-byte character
    const text = Buffer.concat([this.#rest, buf.subarray(0, n)]);
    const cut = text.lastIndexOf(0x0a);
    this.#rest = cut < 0 ? text : text.subarray(cut + 1);
    const lines = cut < 0 ? [] : text.subarray(0, cut).toString('utf8').split('\n');
    const more = this.#pos < size;
    if (eof && !more && this.#rest.length) {
      lines.push(this.#rest.toString('utf8'));
      this.#rest = Buffer.alloc(0);
    }
    return { lines, more };
  }

  /** Every line from where it stopped to the current end. */
  *readAll(eof = false): Generator<string> {
    for (;;) {
      const { lines, more } = this.read(eof);
      yield* lines;
      if (!more) return;
    }
  }

  close(): void {
    closeSync(this.#fd);
  }
}

function openReader(path: string): LineReader | undefined {
  try {
    return new LineReader(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw BerthError.wrap(err, `read log ${JSON.stringify(path)}`);
  }
}

/**
 * Readers, oldest first, for the rotated files newer than the one with inode `ino` and older
 * than the one with inode `until` (the live file we already hold, if it was rotated too).
 */
function newerRotated(logPath: string, ino: number, until: number | undefined): LineReader[] {
  const files = logFiles(logPath).slice(0, -1); // oldest first, without the live one
  const inoOf = (f: string) => {
    try {
      return statSync(f).ino;
    } catch {
      return undefined;
    }
  };
  const at = files.findIndex((f) => inoOf(f) === ino);
  // not found: max-file dropped it meanwhile; what came after cannot be told apart
  if (at < 0) return [];
  const out: LineReader[] = [];
  for (const f of files.slice(at + 1)) {
    const r = openReader(f);
    if (!r) continue;
    if (r.ino === until) {
      r.close();
      break;
    }
    out.push(r);
  }
  return out;
}

/**
 * Entries of a docker json-file log, rotated files included, oldest first. With follow, keeps
 * going as the monitor appends and rotates, until options.signal aborts or (with stateDir) the
 * monitor has finished and everything is read.
 */
export async function* followLogs(logPath: string, opts: FollowLogsOptions = {}): AsyncIterable<LogEntry> {
  const since = opts.since === undefined ? undefined : sinceMs(opts.since);
  const render = (e: LogEntry): LogEntry => (opts.timestamps ? { ...e, line: `${e.time} ${e.line}` } : e);
  const keep = (e: LogEntry | undefined): e is LogEntry => !!e && (since === undefined || Date.parse(e.time) >= since);

  // What exists now: rotated files, then the live one (kept open for following).
  const tail = opts.tail !== undefined && opts.tail >= 0 ? opts.tail : undefined;
  const ring: LogEntry[] = [];
  const emit: LogEntry[] = [];
  const take = (e: LogEntry) => {
    if (tail === undefined) emit.push(e);
    else if (tail > 0) {
      ring.push(e);
      if (ring.length > tail) ring.shift();
    }
  };
  const files = logFiles(logPath);
  let live: LineReader | undefined;
  for (const f of files) {
    const r = openReader(f);
    if (!r) continue;
    const isLive = f === logPath;
    for (const l of r.readAll(!isLive || !opts.follow)) {
      const e = parseLogLine(l);
      if (keep(e)) take(e);
    }
    if (isLive && opts.follow) live = r;
    else r.close();
    if (tail === undefined) yield* emit.splice(0).map(render);
  }
  if (tail !== undefined) yield* ring.map(render);
  if (!opts.follow) return;

  const poll = opts.pollMs ?? 100;
  try {
    for (;;) {
      let finished = false;
      if (opts.stateDir) finished = monitorPid(opts.stateDir) === undefined;
      if (!live) live = openReader(logPath);
      if (live) {
        // rotated: finish the old file, then continue with the new one from its start
        let rotated = false;
        try {
          rotated = statSync(logPath).ino !== live.ino;
        } catch {
          rotated = false;
        }
        for (const l of live.readAll(rotated || finished)) {
          const e = parseLogLine(l);
          if (keep(e)) yield render(e);
        }
        if (rotated) {
          // Several rotations may have happened since the last look: the files newer than
          // ours (our inode is now at log.K) are log.(K-1) ... log.1, then the live log. The
          // new live file is opened first, so that one more rotation meanwhile cannot hide it.
          const next = openReader(logPath);
          const missed = newerRotated(logPath, live.ino, next?.ino);
          live.close();
          live = next;
          for (const r of missed) {
            for (const l of r.readAll(true)) {
              const e = parseLogLine(l);
              if (keep(e)) yield render(e);
            }
            r.close();
          }
          continue;
        }
      }
      if (finished || opts.signal?.aborted) return;
      try {
        await sleep(poll, undefined, { signal: opts.signal });
      } catch {
        return;
      }
    }
  } finally {
    live?.close();
  }
}

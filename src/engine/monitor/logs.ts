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
  #rest = '';
  readonly ino: number;

  constructor(path: string) {
    this.#fd = openSync(path, 'r');
    this.ino = fstatSync(this.#fd).ino;
  }

  /** Lines that are complete now; `eof` also returns a last unterminated one. */
  read(eof = false): string[] {
    const size = fstatSync(this.#fd).size;
    if (size < this.#pos) {
      // truncated in place (max-file 1): start over
      this.#pos = 0;
      this.#rest = '';
    }
    const chunks: string[] = [];
    const buf = Buffer.alloc(65536);
    for (;;) {
      const n = readSync(this.#fd, buf, 0, buf.length, this.#pos);
      if (n <= 0) break;
      this.#pos += n;
      chunks.push(buf.toString('utf8', 0, n));
    }
    const text = this.#rest + chunks.join('');
    const lines = text.split('\n');
    this.#rest = lines.pop() ?? '';
    if (eof && this.#rest) {
      lines.push(this.#rest);
      this.#rest = '';
    }
    return lines;
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
    for (const l of r.read(!isLive || !opts.follow)) {
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
        for (const l of live.read(rotated || finished)) {
          const e = parseLogLine(l);
          if (keep(e)) yield render(e);
        }
        if (rotated) {
          live.close();
          live = openReader(logPath);
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

import { closeSync, constants, mkdirSync, openSync, readFileSync, rmdirSync, writeSync } from 'node:fs';
import { BerthError, toBerthError, type ErrorCode } from '../../errors/index.js';
import type { CgroupWrite, Warn } from './write.js';

const WRITE_FLAGS = constants.O_WRONLY | constants.O_TRUNC;

/** Read a cgroup file, trimmed; undefined when it does not exist. */
export function readCg(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Write a cgroup file: no O_CREAT (cgroupfs files exist or are not supported). */
export function writeRaw(path: string, value: string): void {
  const fd = openSync(path, WRITE_FLAGS);
  try {
    // One write(2): the kernel parses each write as one value.
    writeSync(fd, value);
  } finally {
    closeSync(fd);
  }
}

/** What the kernel means by each errno on a cgroup write (cgroup-v1/*.rst, cgroup-v2.rst). */
const WRITE_ERRORS: Record<string, [ErrorCode, string]> = {
  EINVAL: ['INVALID_ARGUMENT', 'invalid argument'],
  ERANGE: ['INVALID_ARGUMENT', 'numerical result out of range'],
  EBUSY: ['FAILED_PRECONDITION', 'device or resource busy'],
  ENOSPC: ['FAILED_PRECONDITION', 'no space left on device'],
  EPERM: ['PERMISSION_DENIED', 'operation not permitted'],
  EACCES: ['PERMISSION_DENIED', 'permission denied'],
  EOPNOTSUPP: ['NOT_IMPLEMENTED', 'operation not supported'],
  ENOTSUP: ['NOT_IMPLEMENTED', 'operation not supported'],
};

/**
 * Carry out one translated write in `dir`: the first candidate file that exists is written;
 * when none exists, `ifMissing` decides. Errors name the setting, the value and the cgroup:
 * `set memory limit (memory.limit_in_bytes) to 1048576 on /berth/x: device or resource busy`.
 */
export function applyWrite(dir: string, w: CgroupWrite, cgroup: string, warn: Warn): void {
  const candidates = [{ file: w.file, value: w.value }, ...(w.alternatives ?? [])];
  for (const c of candidates) {
    try {
      writeRaw(`${dir}/${c.file}`, c.value);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (code === 'ENOENT') continue;
      const [ec, text] = WRITE_ERRORS[code] ?? [toBerthError(err).code, toBerthError(err).message];
      throw new BerthError(ec, `set ${w.label} (${c.file}) to ${c.value} on ${cgroup}: ${text}`, { cause: err, errno: code });
    }
  }
  const files = candidates.map((c) => c.file).join(' or ');
  if (w.ifMissing === 'ignore') return;
  if (w.ifMissing === 'warn') {
    warn(`${w.label} not applied on ${cgroup}: this kernel has no ${files}`);
    return;
  }
  throw new BerthError('NOT_IMPLEMENTED', `set ${w.label} to ${w.value} on ${cgroup}: this kernel has no ${files}`);
}

/** mkdir one level; true if created, false if it existed. */
export function mkdirOne(path: string): boolean {
  try {
    mkdirSync(path, 0o755);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Block this thread for `ms` (the manager is synchronous by design: no event-loop turns). */
export function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * rmdir a cgroup, retrying EBUSY for up to `budgetMs`: the kernel keeps a cgroup busy for a
 * moment after its last task exits (css offlining). ENOENT counts as removed.
 */
export function rmdirCg(path: string, budgetMs = 1000): void {
  const deadline = Date.now() + budgetMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    try {
      rmdirSync(path);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() >= deadline) throw err;
      sleepMs(delay);
    }
  }
}

/** rmdir a parent cgroup only if empty: another container may be using it right now. */
export function rmdirIfEmpty(path: string): boolean {
  try {
    rmdirSync(path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTEMPTY' || code === 'EBUSY' || code === 'EEXIST') return false;
    throw err;
  }
}

/** Pids listed in a cgroup.procs file (empty when the cgroup is gone). */
export function readPids(procsFile: string): number[] {
  const text = readCg(procsFile);
  if (!text) return [];
  return text.split('\n').map(Number).filter((n) => n > 0);
}

/** Signal every pid, ignoring those already gone. */
export function signalAll(pids: number[], signal: NodeJS.Signals | number): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

/** Parse "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control). */
export function keyValues(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

/** A limit as a number: "max" and the v1 "unlimited" page-rounded 2^63 become MAX_SAFE_INTEGER. */
export function limitNumber(text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  if (text === 'max') return Number.MAX_SAFE_INTEGER;
  const n = Number(text);
  return n >= Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : n;
}

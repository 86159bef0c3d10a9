import { spawn } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { BerthError } from '../errors/index.js';
import { fsOps, type FsOps } from '../sys/fsops.js';

/**
 * A host-wide flock(2) lock, taken in this process through the native addon with non-blocking
 * tries (~0.1 ms uncontended; a flock(1) child costs ~6 ms). It belongs to our open file
 * description, so kill -9 of berth drops it and it can never go stale. Without the addon: a
 * small `flock` child (util-linux flock(1)) that holds it while its stdin stays open (kill -9
 * closes the pipe, cat exits, the kernel drops the lock). Host-wide because bridges, routes,
 * iptables chains and ip_forward are host-wide: two berth roots (tests, a daemon and a CLI)
 * must not pick the same subnet or remove a chain the other is about to use.
 */
export const HOST_LOCK = process.env.BERTH_NETWORK_LOCK || '/run/lock/berth-network.lock';

export interface HeldLock {
  release(): void;
}

function native(): FsOps | undefined {
  try {
    const ops = fsOps();
    return typeof ops.flock === 'function' ? ops : undefined;
  } catch {
    return undefined;
  }
}

/** Open the lock file (created if missing) or directory, close-on-exec (Node's default): plugins never inherit it. */
function openLock(path: string): number {
  try {
    return openSync(path, constants.O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return openSync(path, constants.O_RDONLY | constants.O_CREAT, 0o644);
  }
}

export async function hostLock(mode: 'shared' | 'exclusive', path = HOST_LOCK): Promise<HeldLock> {
  mkdirSync(dirname(path), { recursive: true });
  const ops = native();
  if (ops) {
    const fd = openLock(path);
    try {
      // non-blocking tries, 1 ms apart and backing off to 20 ms: no thread waits in flock(2)
      for (let wait = 1; !ops.flock(fd, mode === 'exclusive'); wait = Math.min(wait * 2, 20)) await new Promise((r) => setTimeout(r, wait));
    } catch (err) {
      closeSync(fd);
      throw BerthError.wrap(err, `take network lock ${path}`, 'UNAVAILABLE');
    }
    let done = false;
    return {
      release() {
        if (done) return;
        done = true;
        closeSync(fd);
      },
    };
  }
  const child = spawn('flock', [mode === 'shared' ? '-s' : '-x', path, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.once('data', () => resolve());
    child.once('error', (e) => reject(BerthError.wrap(e, `take network lock ${path}`, 'UNAVAILABLE')));
    child.once('exit', (code) => reject(new BerthError('UNAVAILABLE', `take network lock ${path}: flock exited ${code}: ${err.trim()}`)));
  });
  child.removeAllListeners('exit');
  child.on('error', () => {});
  let done = false;
  return {
    release() {
      if (done) return;
      done = true;
      child.stdin.end();
    },
  };
}

export async function withHostLock<T>(mode: 'shared' | 'exclusive', fn: () => Promise<T> | T, path = HOST_LOCK): Promise<T> {
  const l = await hostLock(mode, path);
  try {
    return await fn();
  } finally {
    l.release();
  }
}

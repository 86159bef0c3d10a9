import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { BerthError } from '../errors/index.js';

/**
 * A host-wide flock(2) lock held by a small `flock` child (util-linux flock(1)) for as long
 * as its stdin stays open: Node has no flock, and a lock held by a child dies with us (kill
 * -9 closes the pipe, cat exits, the kernel drops the lock), so it can never go stale.
 * Host-wide because bridges, routes, iptables chains and ip_forward are host-wide: two berth
 * roots (tests, a daemon and a CLI) must not pick the same subnet or remove a chain the
 * other is about to use.
 */
export const HOST_LOCK = process.env.BERTH_NETWORK_LOCK || '/run/lock/berth-network.lock';

export interface HeldLock {
  release(): void;
}

export async function hostLock(mode: 'shared' | 'exclusive', path = HOST_LOCK): Promise<HeldLock> {
  mkdirSync(dirname(path), { recursive: true });
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

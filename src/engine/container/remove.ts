import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, isBerthError, withCleanupError } from '../../errors/index.js';
import { releaseImage } from '../../image/index.js';
import { detachUnder, unmountAll } from '../../sys/mount.js';
import { killMonitor, monitorPid, readExit } from '../monitor/index.js';
import type { ContainerRecord } from '../containers/store.js';
import type { Engine } from '../engine.js';
import { mark } from '../trace.js';
import { noRestart, signalContainer } from './signal.js';
import { refreshContainer } from './status.js';
import { pidAlive } from '../../util/process.js';

export interface RemoveOptions {
  /** Kill a running container first (docker rm -f). */
  force?: boolean;
  /** Also remove its anonymous volumes (docker rm -v). */
  volumes?: boolean;
}

async function monitorGone(dir: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  let poll = 2;
  while (monitorPid(dir) !== undefined) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, poll));
    poll = Math.min(poll * 2, 50);
  }
  return true;
}

/**
 * docker rm: claim the container (status "removing", owned by this process, so two removers
 * never both work on it), kill it if forced, then undo everything create and start made, in
 * reverse: runtime state, network, rootfs mount, snapshot, image lease, volume refs (and
 * anonymous volumes with `volumes`), bundle and log dirs, and last the record. A remover that
 * crashed half-way leaves "removing" with a dead pid: the next rm takes over.
 */
export async function removeContainer(engine: Engine, ref: string, opts: RemoveOptions = {}): Promise<string> {
  let rec = refreshContainer(engine, engine.containers.find(ref));
  const what = `remove container ${JSON.stringify(rec.name)}`;
  const live = ['running', 'paused', 'restarting'].includes(rec.state.status);
  if (live && !opts.force) {
    throw new BerthError('CONFLICT', `cannot remove container "/${rec.name}": container is ${rec.state.status}: stop the container before removing or force remove`);
  }
  const state = engine.containers.updateState(rec.id, (s) => {
    if (s.status === 'removing' && s.removingBy !== process.pid && pidAlive(s.removingBy)) {
      throw new BerthError('CONFLICT', `${what}: removal of container ${rec.name} is already in progress`);
    }
    if (!opts.force && ['running', 'paused', 'restarting'].includes(s.status)) {
      throw new BerthError('CONFLICT', `cannot remove container "/${rec.name}": container is running: stop the container before removing or force remove`);
    }
    return { ...s, status: 'removing', removingBy: process.pid, removingFrom: s.status === 'removing' ? s.removingFrom : s.status };
  });
  rec = { ...rec, state };
  await teardownContainer(engine, rec, opts);
  return rec.id;
}

/** Everything of the container but its record, then the record. Idempotent. */
async function teardownContainer(engine: Engine, rec: ContainerRecord, opts: RemoveOptions): Promise<void> {
  const what = `remove container ${JSON.stringify(rec.name)}`;
  const paths = engine.paths(rec.id);
  let error: BerthError | undefined;
  const step = async (name: string, fn: () => unknown) => {
    try {
      await fn();
    } catch (err) {
      const e = BerthError.wrap(err, `${what}: ${name}`);
      error = error ? withCleanupError(error, e) : e;
    }
  };
  // Stop whatever still runs: through its monitor (which then writes the exit file and goes);
  // an init with no monitor is killed by the runtime's delete --force below.
  await step('stop', async () => {
    if (monitorPid(paths.dir) === undefined) return;
    await noRestart(engine, rec);
    await signalContainer(engine, rec, 'KILL').then(() => engine.containerEvent(rec, 'kill', { signal: '9' }), () => {});
    try {
      if (await monitorGone(paths.dir, 10_000)) return;
      killMonitor(paths.dir);
      if (!(await monitorGone(paths.dir, 10_000))) throw new BerthError('DEADLINE_EXCEEDED', `its monitor is still running after SIGKILL and SIGTERM`);
    } finally {
      // the record says "removing" now, so no refresh records this exit: say it here
      const st = readExit(paths.dir);
      if (['running', 'paused', 'restarting'].includes(rec.state.removingFrom ?? '')) engine.containerEvent(rec, 'die', { exitCode: String(st?.exitCode ?? 137) });
    }
  });
  mark('rm: stopped');
  const driver = engine.runtime(rec.config.runtime);
  await step('delete runtime state', async () => {
    if (existsSync(join(driver.root, rec.id))) await driver.delete(rec.id, true);
  });
  if (engine.network) await step('tear down network', () => engine.network!.teardown(rec.id));
  mark('rm: runtime state deleted');
  await step('unmount rootfs', () => unmountAll(paths.rootfs));
  await step('remove snapshot', async () => {
    try {
      await engine.snapshotter.remove(rec.snapshotKey);
    } catch (err) {
      if (!isBerthError(err, 'NOT_FOUND')) throw err;
    }
  });
  mark('rm: unmounted, snapshot removed');
  await step('release image', () => releaseImage(engine.images, `container/${rec.id}`));
  await step('release user namespace range', () => engine.usernsRanges.release(rec.id));
  await step('release volumes', () => {
    const names = engine.volumes.release(rec.id);
    if (!opts.volumes) return;
    for (const n of names) {
      try {
        const v = engine.volumes.get(n);
        if (v.anonymous && engine.volumes.usedBy(n).length === 0) engine.volumes.remove(n, true);
      } catch (err) {
        if (!isBerthError(err, 'NOT_FOUND') && !isBerthError(err, 'CONFLICT')) throw err;
      }
    }
  });
  if (error) {
    // keep the record ("removing", dead remover after we exit) so a later rm finishes the job
    throw error;
  }
  await step('remove files', () => {
    detachUnder(paths.dir); // never delete through a mount a crashed create left (docs/security.md)
    rmSync(paths.dir, { recursive: true, force: true });
    rmSync(paths.logDir, { recursive: true, force: true });
  });
  if (error) throw error;
  engine.containers.remove(rec.id);
  engine.containerEvent(rec, 'destroy');
  mark('rm: done');
}


import { writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isBerthError, toBerthError, withCleanupError } from '../../errors/index.js';
import { mountIdmappedOverlay } from '../../sys/idmap.js';
import { mountAll, unmountAll, type MountSpec } from '../../sys/mount.js';
import type { Engine } from '../engine.js';
import { mark } from '../trace.js';
import { containerIdRange, shiftOwnership, type IdRange, type RootfsOwnership } from '../userns.js';

/**
 * errnos that mean "this kernel or file system cannot idmap the overlay's layers (this way)"
 * (EINVAL: mount_setattr(2) on a file system without idmap support, fsconfig(2) of a layer fd
 * before Linux 6.13 or of a detached mount before 6.15; ENOSYS: no new mount API before 5.2 or
 * mount_setattr before 5.12; EPERM/EOPNOTSUPP: not allowed here). Anything else is a real failure.
 */
const FALLBACK_ERRNOS = new Set(['EINVAL', 'ENOSYS', 'EPERM', 'EOPNOTSUPP']);

function canFallBack(err: unknown): boolean {
  const e = toBerthError(err);
  return e.errno ? FALLBACK_ERRNOS.has(e.errno) : isBerthError(e, 'NOT_IMPLEMENTED');
}

/**
 * Idmapped layers, the best way this kernel has: as fds of detached clones (6.15), else as
 * clones attached for the time of the mount under `<bundle>/idmap` (5.19-6.14; a sibling of
 * the rootfs, which remove clears of mounts before it deletes the bundle). Returns the way.
 * BERTH_USERNS_IDMAP=attached forces the second (tests).
 */
function mountIdmapped(mounts: MountSpec[], target: string, range: IdRange): 'fd' | 'attached' {
  const attach = join(dirname(target), 'idmap');
  if (process.env.BERTH_USERNS_IDMAP !== 'attached') {
    try {
      mountIdmappedOverlay(mounts, target, range);
      return 'fd';
    } catch (err) {
      if (!canFallBack(err) || !toBerthError(err).errno) throw err;
      debug(`idmapped layers by fd: ${toBerthError(err).message}; trying attached layers`);
    }
  }
  mountIdmappedOverlay(mounts, target, range, { attach });
  return 'attached';
}

/**
 * Mount a new container's snapshot on `target` and, for a --userns container (`range`), make
 * it the mapped root's: with idmapped layers where the kernel allows (nothing copied, the
 * image's and the container's files keep their owners on disk), else by the chown copy.
 * BERTH_USERNS_IDMAP=0 forces the copy (for tests and diagnosis), =attached the attached layers. Which way was taken is
 * recorded for later mounts, traced (BERTH_TRACE), told on stderr with BERTH_DEBUG, and shown
 * by inspect (GraphDriver.Data.RootfsOwnership). On failure nothing stays mounted on target.
 */
export async function mountNewRootfs(engine: Engine, id: string, mounts: MountSpec[], target: string, range: IdRange | undefined): Promise<RootfsOwnership | undefined> {
  if (!range) {
    await mountAll(mounts, target);
    mark('create: rootfs mounted');
    return undefined;
  }
  let why = 'BERTH_USERNS_IDMAP=0';
  if (process.env.BERTH_USERNS_IDMAP !== '0') {
    try {
      const way = mountIdmapped(mounts, target, range);
      engine.usernsRanges.setOwnership(id, 'idmapped');
      mark(`create: rootfs mounted with idmapped layers (${way})`);
      debug(`container ${id}: rootfs mounted with idmapped layers (${way})`);
      return 'idmapped';
    } catch (err) {
      if (!canFallBack(err)) throw err;
      why = toBerthError(err).message;
    }
  }
  await mountAll(mounts, target);
  try {
    engine.usernsRanges.setOwnership(id, 'chown');
    shiftOwnership(target, range);
  } catch (err) {
    let e = err;
    try {
      await unmountAll(target);
    } catch (cleanupErr) {
      e = withCleanupError(err, cleanupErr);
    }
    throw e;
  }
  mark('create: rootfs mounted, ownership shifted (chown copy)');
  debug(`container ${id}: rootfs ownership shifted by a chown copy (${why})`);
  return 'chown';
}

/**
 * Mount an existing container's snapshot on `target` again (start after a reboot, cp): with
 * idmapped layers if it was made so at create, plainly otherwise (a chown copy is in its
 * upper dir already).
 */
export async function mountRootfs(engine: Engine, rec: { id: string; snapshotKey: string; config: { userns?: string } }, target: string): Promise<void> {
  const mounts = await engine.snapshotter.mounts(rec.snapshotKey);
  const range = containerIdRange(engine, rec);
  if (range && engine.usernsRanges.ownership(rec.id) === 'idmapped') mountIdmapped(mounts, target, range);
  else await mountAll(mounts, target);
}

function debug(msg: string): void {
  if (process.env.BERTH_DEBUG) writeSync(2, `berth: debug: ${msg}\n`);
}

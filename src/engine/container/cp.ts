import { mkdirSync } from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError } from '../../errors/index.js';
import { isMounted } from '../../sys/mount.js';
import type { ContainerRecord } from '../containers/store.js';
import type { Engine } from '../engine.js';
import { extractTree, packTree, statInRoot, type ExtractOptions, type Owner, type PathStat } from '../tree-tar.js';
import { containerIdRange, type IdRange } from '../userns.js';
import { mountRootfs } from './rootfs.js';
import { refreshContainer } from './status.js';

/**
 * The container's rootfs on the host, mounted again if it is not (after a reboot): cp works on
 * created, running and stopped containers alike. Volumes and binds are not seen here (docker
 * walks them; berth copies the container's own filesystem only).
 */
export async function containerRootfs(engine: Engine, rec: ContainerRecord): Promise<string> {
  if (rec.state.status === 'removing' || rec.state.status === 'dead')
    throw new BerthError('FAILED_PRECONDITION', `container ${JSON.stringify(rec.name)} is being removed`);
  const { rootfs } = engine.paths(rec.id);
  if (!isMounted(rootfs)) {
    mkdirSync(rootfs, { recursive: true, mode: 0o700 });
    await mountRootfs(engine, rec, rootfs);
  }
  return rootfs;
}

/** lstat of a path in the container (docker's archive HEAD), undefined if missing. */
export async function statContainerPath(engine: Engine, ref: string, path: string): Promise<PathStat | undefined> {
  const rec = refreshContainer(engine, engine.containers.find(ref));
  return statInRoot(await containerRootfs(engine, rec), path);
}

/**
 * A tar stream of `path` in the container (docker's archive GET): the top entry is named
 * `rebaseName` (default the path's base name; `.` for a directory's contents).
 */
export async function archiveFromContainer(engine: Engine, ref: string, path: string, opts: { rebaseName?: string } = {}): Promise<{ stat: PathStat; tar: Readable }> {
  const rec = refreshContainer(engine, engine.containers.find(ref));
  const what = `copy ${JSON.stringify(path)} from container ${JSON.stringify(rec.name)}`;
  const root = await containerRootfs(engine, rec);
  const stat = statInRoot(root, path);
  if (!stat) throw new BerthError('NOT_FOUND', `${what}: no such file or directory`);
  const range = containerIdRange(engine, rec);
  return { stat, tar: packTree(root, path, { ...opts, ...(range ? { mapOwner: (o: Owner) => toContainerIds(o, range) } : {}) }) };
}

/**
 * Unpack a tar stream into the directory `dir` of the container (docker's archive PUT). Owner:
 * root of the container unless 'keep' (docker cp -a).
 */
export async function extractToContainer(engine: Engine, ref: string, dir: string, tar: Readable, opts: Partial<ExtractOptions> = {}): Promise<void> {
  const rec = refreshContainer(engine, engine.containers.find(ref));
  const what = `copy to ${JSON.stringify(dir)} in container ${JSON.stringify(rec.name)}`;
  const root = await containerRootfs(engine, rec);
  const st = statInRoot(root, dir);
  // the directory itself may be a symlink inside the container (e.g. /var/run): follow it there
  const resolvedDir = st && st.linkTarget ? posix.normalize(posix.join(posix.dirname(posix.normalize(`/${dir}`)), st.linkTarget)) : dir;
  const rst = statInRoot(root, resolvedDir);
  if (!rst) throw new BerthError('NOT_FOUND', `${what}: no such directory`);
  if (!rst.isDir) throw new BerthError('INVALID_ARGUMENT', `${what}: not a directory`);
  try {
    // in a --userns container "root" and the archive's ids are the container's: shifted on the host
    const range = containerIdRange(engine, rec);
    await extractTree(root, resolvedDir, tar, { owner: opts.owner ?? { uid: 0, gid: 0 }, ...(range ? { mapOwner: (o: Owner) => toHostIds(o, range, what) } : {}) });
  } catch (err) {
    throw BerthError.wrap(err, what);
  }
}

/**
 * docker cp's rules for where a copy lands, the same both ways: given what the source is and
 * what exists at the destination, the directory to extract into and the name of the top entry.
 * `SRC/.` copies a directory's contents; an existing directory receives SRC under its name; a
 * missing destination is created with SRC's content under the destination's name.
 */
export function copyTarget(src: { path: string; isDir: boolean }, dst: { path: string; stat: PathStat | undefined }): { dir: string; rebaseName: string } {
  const contentsOnly = /(^|\/)\.$/.test(src.path);
  const srcBase = posix.basename(posix.normalize(src.path.replace(/\/\.$/, '') || '/'));
  const dstClean = posix.normalize(dst.path);
  if (dst.stat?.isDir) return { dir: dstClean, rebaseName: contentsOnly && src.isDir ? '.' : srcBase };
  if (dst.stat && src.isDir) throw new BerthError('INVALID_ARGUMENT', `cannot copy a directory to a file: ${JSON.stringify(dst.path)}`);
  if (!dst.stat && !src.isDir && dst.path.endsWith('/'))
    throw new BerthError('NOT_FOUND', `destination directory ${JSON.stringify(dst.path)} does not exist`);
  return { dir: posix.dirname(dstClean.replace(/\/$/, '')), rebaseName: posix.basename(dstClean.replace(/\/$/, '')) };
}

/** A container id as the host id its user namespace maps it to; an id outside the range has no file owner there. */
function toHostIds(o: Owner, r: IdRange, what: string): Owner {
  if (o.uid >= r.size || o.gid >= r.size) {
    throw new BerthError('INVALID_ARGUMENT', `${what}: owner ${o.uid}:${o.gid} is outside the container's user namespace (ids 0-${r.size - 1})`);
  }
  return { uid: r.uid + o.uid, gid: r.gid + o.gid };
}

/** A host id as the container sees it; one its namespace does not map shows as the overflow id 65534, as the kernel shows it. */
function toContainerIds(o: Owner, r: IdRange): Owner {
  const back = (id: number, base: number) => (id >= base && id < base + r.size ? id - base : 65534);
  return { uid: back(o.uid, r.uid), gid: back(o.gid, r.gid) };
}

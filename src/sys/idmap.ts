import { closeSync, mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { BerthError } from '../errors/index.js';
import { fsOps } from './fsops.js';
import { detachUnder, type MountSpec } from './mount.js';

/** Container ids 0..size-1 as host ids uid.. and gid.. */
export interface IdMapping {
  uid: number;
  gid: number;
  size: number;
}

/**
 * The id host root (uid and gid 0) has in an idmapped layer. overlayfs does its own work in
 * the upper and work dirs (the work dir itself, whiteouts, copy-up temp files) as the mounter,
 * host root, through the idmapped upper; an idmapping that does not map host root refuses that
 * with EOVERFLOW and overlayfs falls back to a read-only mount. So host root is mapped too, to
 * this id: outside every container range, and (uid_t)-2, the highest valid id, which no image
 * uses. On disk it shows on whiteouts, the work dir, and files host root writes into a
 * running container's rootfs; `berth commit` writes it back as 0. The container's own user
 * namespace does not map host root, so inside it such a file is the overflow id (nobody).
 */
export const HOST_ROOT_IN_IDMAP = 4294967294;

/** What overlay mount options an idmapped mount needs, or undefined when it cannot be one. */
export interface OverlayLayers {
  lowers: string[];
  upperParent: string;
  upperName: string;
  workName: string;
  data: string[];
}

/**
 * The layers of a writable overlay mount description, if it is one that `mountIdmappedOverlay`
 * can make: one overlay mount with upperdir, workdir (in the same directory, so one idmapped
 * clone holds both, as overlayfs wants them on one mount) and lowerdir; other options only
 * `key=value` ones (index=off). Anything else (a bind mount of a layer, a read-only view, mount
 * flags) is undefined: the caller falls back.
 */
export function overlayLayers(mounts: MountSpec[]): OverlayLayers | undefined {
  if (mounts.length !== 1 || mounts[0].type !== 'overlay') return undefined;
  let lowers: string[] | undefined;
  let upper: string | undefined;
  let work: string | undefined;
  const data: string[] = [];
  for (const o of mounts[0].options) {
    const eq = o.indexOf('=');
    const [k, v] = eq < 0 ? [o, ''] : [o.slice(0, eq), o.slice(eq + 1)];
    if (k === 'lowerdir') lowers = v.split(':');
    else if (k === 'upperdir') upper = v;
    else if (k === 'workdir') work = v;
    else if (k === 'rw') continue;
    else if (eq > 0 && !v.includes(',')) data.push(o);
    else return undefined;
  }
  if (!lowers || !upper || !work || lowers.some((l) => !l.startsWith('/') || l.includes('\\'))) return undefined;
  if (!upper.startsWith('/') || dirname(upper) !== dirname(work)) return undefined;
  return { lowers, upperParent: dirname(upper), upperName: basename(upper), workName: basename(work), data };
}

/** user_namespaces(7) map lines: the container's range, and host root (see HOST_ROOT_IN_IDMAP). */
export function idmapLines(start: number, size: number): string {
  return `0 ${start} ${size}\n${HOST_ROOT_IN_IDMAP} 0 1\n`;
}

/**
 * Mount `mounts` (a writable overlay snapshot) on `target` with idmapped layers (overlayfs.rst
 * "Idmapped layers"): the files keep their owners on disk (0 stays 0), and through the mount a
 * file owned by container id N shows as host id `map.uid + N`; files the container creates
 * are stored with their container ids. The layers go to overlayfs as fds of detached clones
 * (Linux 6.15), or with `attach` (5.19-6.14) as clones attached under that dir for the time of
 * the mount(2) call (made and removed here; left only if the process dies inside the call).
 * Errors keep the kernel's errno (EINVAL: this kernel or file system cannot do it, ENOSYS: no
 * such syscall, EPERM: not allowed here); NOT_IMPLEMENTED when the mounts are not an overlay
 * this can idmap.
 */
export function mountIdmappedOverlay(mounts: MountSpec[], target: string, map: IdMapping, opts: { attach?: string } = {}): void {
  const what = `mount idmapped layers on ${JSON.stringify(target)}${opts.attach ? ' (attached)' : ''}`;
  const layers = overlayLayers(mounts);
  if (!layers) throw new BerthError('NOT_IMPLEMENTED', `${what}: the snapshot is not a writable overlay (${mounts.map((m) => m.type).join(', ') || 'no mounts'})`);
  try {
    const ops = fsOps();
    if (typeof ops.idmapOverlay !== 'function') throw new BerthError('NOT_IMPLEMENTED', 'the native helper is an older build (run "make -C native")', { errno: 'ENOSYS' });
    const fd = ops.usernsFd(idmapLines(map.uid, map.size), idmapLines(map.gid, map.size));
    try {
      const args = [target, layers.lowers, layers.upperParent, layers.upperName, layers.workName, layers.data, fd] as const;
      if (!opts.attach) ops.idmapOverlay(...args);
      else {
        // what a process killed inside the attach step left: never reuse, never delete through
        detachUnder(opts.attach);
        rmSync(opts.attach, { recursive: true, force: true });
        mkdirSync(opts.attach, { mode: 0o700 });
        try {
          ops.idmapOverlayAttached(...args, opts.attach);
        } finally {
          rmdirSync(opts.attach);
        }
      }
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw BerthError.wrap(err, what);
  }
}

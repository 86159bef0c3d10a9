import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { BerthError } from '../errors/index.js';
import { fsOps, MNT_DETACH, type FsOps } from './fsops.js';

const run = promisify(execFile);

/** A mount as snapshotters describe it (the same shape as snapshot's Mount). */
export interface MountSpec {
  type: string;
  source: string;
  options: string[];
}

/**
 * Mount each description on `target`, in order: overlay and tmpfs with mount(2) through the
 * native addon (no process), anything else with mount(8) (Node has no mount(2)).
 * `bind` is a bind mount (`rbind` recursive); mount(8) remounts it read-only for `ro`.
 * On failure the mounts already made on target are undone.
 */
export async function mountAll(mounts: MountSpec[], target: string): Promise<void> {
  let done = 0;
  try {
    for (const m of mounts) {
      const args = m.type === 'bind' ? [] : ['-t', m.type];
      const opts = m.type === 'bind' && !m.options.some((o) => o === 'bind' || o === 'rbind') ? ['bind', ...m.options] : m.options;
      const { options, cwd } = compactOptions(opts);
      const direct = cwd ? undefined : directMount(m.type, options);
      const ops = direct && native();
      if (direct && ops) {
        ops.mount(m.source, target, m.type, direct.flags, direct.data);
        done++;
        continue;
      }
      if (options.length) args.push('-o', options.join(','));
      await run('mount', [...args, '--', m.source, target], cwd ? { cwd } : {});
      done++;
    }
  } catch (err) {
    const e = BerthError.wrap(mountError(err), `mount ${mounts[done]?.type ?? ''} on ${JSON.stringify(target)}`);
    if (done > 0) {
      try {
        await unmountAll(target);
      } catch (cleanupErr) {
        e.cleanupErrors.push(cleanupErr);
      }
    }
    throw e;
  }
}

/** The addon with mount(2)/umount2(2), or undefined (not built, or an older build without them). */
function native(): FsOps | undefined {
  try {
    const ops = fsOps();
    return typeof ops.mount === 'function' && typeof ops.umount2 === 'function' ? ops : undefined;
  } catch {
    return undefined;
  }
}

/** mount(8)'s flag options (mount(8) "FILESYSTEM-INDEPENDENT MOUNT OPTIONS"; MS_* from <sys/mount.h>). */
const FLAG_OPTIONS: Record<string, [set: number, clear: number]> = {
  defaults: [0, 0],
  ro: [0x1, 0],
  rw: [0, 0x1],
  nosuid: [0x2, 0],
  suid: [0, 0x2],
  nodev: [0x4, 0],
  dev: [0, 0x4],
  noexec: [0x8, 0],
  exec: [0, 0x8],
  sync: [0x10, 0],
  async: [0, 0x10],
  dirsync: [0x80, 0],
  noatime: [0x400, 0],
  atime: [0, 0x400],
  nodiratime: [0x800, 0],
  diratime: [0, 0x800],
  relatime: [0x200000, 0],
  norelatime: [0, 0x200000],
  strictatime: [0x1000000, 0],
};

/**
 * mount(2)'s flags and data for a mount(8)-style option list, for the file systems whose
 * other options all go to the kernel as data (overlayfs, tmpfs); undefined when mount(8)
 * must do it (another type, userspace or propagation options such as `x-*`, `loop`, `bind`).
 */
export function directMount(type: string, options: string[]): { flags: number; data: string } | undefined {
  if (type !== 'overlay' && type !== 'tmpfs') return undefined;
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = FLAG_OPTIONS[o];
    if (f) flags = (flags | f[0]) & ~f[1];
    else if (/^(x-|loop|bind|rbind|remount|move|r?(shared|private|slave|unbindable)$|no(auto|fail)$|auto$|_netdev$|users?$|owner$|group$|comment=|helper=)/.test(o)) return undefined;
    else data.push(o);
  }
  const d = data.join(',');
  return d.length > MAX_MOUNT_DATA ? undefined : { flags, data: d };
}

/** mount(2) copies at most one page of option data. */
const MAX_MOUNT_DATA = 4095;

/**
 * Fit an overlay's options into one page: when too long, the lowerdirs are rewritten relative
 * to their common directory and mount(8) runs there (the kernel resolves relative lowerdirs
 * against the mounting process's cwd), as containerd does for deep image chains.
 */
export function compactOptions(options: string[]): { options: string[]; cwd?: string } {
  if (options.join(',').length <= MAX_MOUNT_DATA) return { options };
  const i = options.findIndex((o) => o.startsWith('lowerdir='));
  if (i < 0) return { options };
  const lowers = options[i].slice('lowerdir='.length).split(':');
  if (!lowers.every((l) => l.startsWith('/'))) return { options };
  let common = lowers[0].slice(0, lowers[0].lastIndexOf('/'));
  for (const l of lowers) while (common && !l.startsWith(`${common}/`)) common = common.slice(0, common.lastIndexOf('/'));
  if (!common) return { options };
  const out = [...options];
  out[i] = `lowerdir=${lowers.map((l) => l.slice(common.length + 1)).join(':')}`;
  if (out.join(',').length > MAX_MOUNT_DATA) {
    throw new BerthError('RESOURCE_EXHAUSTED', `mount overlay: ${lowers.length} lower layers do not fit in one page of mount options`);
  }
  return { options: out, cwd: common };
}

/**
 * Unmount everything mounted on or under `target` (umount -R), if anything is: with
 * umount2(2), the most recent mount first (proc(5): mountinfo lists mounts in mount order,
 * so a child comes after its parent), or with umount(8) when the addon is not there.
 */
export async function unmountAll(target: string): Promise<void> {
  if (!isMounted(target)) return;
  const ops = native();
  try {
    if (ops) {
      const want = target.replace(/\/+$/, '') || '/';
      const points = mountPoints().filter((p) => p === want || p.startsWith(want === '/' ? '/' : `${want}/`));
      // Deepest first; among equal depths the later mount first (stacked mounts).
      const depth = (p: string): number => p.split('/').length;
      for (const p of points.reverse().sort((a, b) => depth(b) - depth(a))) {
        try {
          ops.umount2(p, 0);
        } catch (err) {
          // EINVAL: no longer a mount point (an earlier unmount propagated to it).
          if ((err as NodeJS.ErrnoException).code !== 'EINVAL' || isMounted(p)) throw err;
        }
      }
      return;
    }
    await run('umount', ['-R', '--', target]);
  } catch (err) {
    throw BerthError.wrap(mountError(err), `unmount ${JSON.stringify(target)}`);
  }
}

/**
 * Lazily detach (umount2 MNT_DETACH) whatever is still mounted under `dir` (not `dir` itself),
 * deepest first: before a directory tree is removed, so that a removal never descends into a
 * mount left there by a process that died (an idmapped layer clone is the image's own files).
 */
export function detachUnder(dir: string): void {
  const want = dir.replace(/\/+$/, '');
  const depth = (p: string): number => p.split('/').length;
  const points = mountPoints().filter((p) => p.startsWith(`${want}/`));
  if (!points.length) return;
  const ops = native();
  if (!ops) throw new BerthError('NOT_IMPLEMENTED', `detach the mounts under ${JSON.stringify(dir)}: the native helper is not built`);
  for (const p of points.reverse().sort((a, b) => depth(b) - depth(a))) {
    try {
      ops.umount2(p, MNT_DETACH);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL' || isMounted(p)) throw BerthError.wrap(err, `detach ${JSON.stringify(p)}`);
    }
  }
}

/** Whether something is mounted exactly on `path` in this mount namespace (proc(5) mountinfo). */
export function isMounted(path: string): boolean {
  const want = path.replace(/\/+$/, '') || '/';
  return mountPoints().includes(want);
}

/** This mount namespace's mount points, in mountinfo's order (proc(5)). */
function mountPoints(): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const point = line.split(' ')[4];
    if (point !== undefined) out.push(unescapeMountinfo(point));
  }
  return out;
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function mountError(err: unknown): unknown {
  const e = err as { stderr?: string; message?: string };
  if (typeof e?.stderr === 'string' && e.stderr.trim()) return new BerthError('INTERNAL', e.stderr.trim());
  return err;
}

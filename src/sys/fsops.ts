import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../errors/index.js';

/**
 * The file-system calls Node's fs module lacks, from the native addon `native/fsops.c`
 * (built by `make -C native`). All synchronous: layer unpacking makes many tiny calls.
 * Failures are thrown as Node-style system errors (`code` is the errno name).
 */
export interface FsOps {
  /** mknod(2): `mode` carries the type bits (S_IFCHR, S_IFBLK, S_IFIFO) and permissions. */
  mknod(path: string, mode: number, major: number, minor: number): void;
  /** lsetxattr(2): never follows a symlink. */
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** lgetxattr(2), or null when the attribute is absent (ENODATA). */
  lgetxattr(path: string, name: string): Buffer | null;
  /** llistxattr(2): the attribute names this process may see. */
  llistxattr(path: string): string[];
  /**
   * Create a new regular file (O_EXCL|O_NOFOLLOW) with `data`, chown/chmod it when asked,
   * set its mtime, close it: all on a libuv pool thread, then `cb` on the main thread.
   * The buffers must not change until then.
   */
  writeFile(
    path: string,
    mode: number,
    uid: number,
    gid: number,
    chown: boolean,
    chmod: boolean,
    mtimeSec: number,
    mtimeNsec: number,
    data: Buffer[],
    cb: (err: NodeJS.ErrnoException | null) => void,
  ): void;
  /** mount(2): `flags` are MS_* bits, `data` the file system's options ('' for none). */
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  /** umount2(2). */
  umount2(target: string, flags: number): void;
  /**
   * A user namespace with these maps (user_namespaces(7) lines, "0 165536 65536\n"), as an
   * O_CLOEXEC fd for MOUNT_ATTR_IDMAP; the caller closes it. Made in a short-lived child.
   */
  usernsFd(uidMap: string, gidMap: string): number;
  /**
   * Mount on `target` an overlay whose layers are idmapped (through `usernsFd`) detached clones
   * of `lowers` (topmost first) and of `upperParent`, in which `upperName` and `workName` are
   * the upper and work dirs; `data` are "key=value" overlay options. Linux 6.15 or later;
   * older kernels fail EINVAL or ENOSYS. `syscall` of the error names the failed step.
   */
  idmapOverlay(target: string, lowers: string[], upperParent: string, upperName: string, workName: string, data: string[], usernsFd: number): void;
  /**
   * A new network namespace bind-mounted on `path` (an existing file), made by a short-lived
   * thread (unshare(CLONE_NEWNET) + mount of /proc/thread-self/ns/net): no process stays in it.
   */
  netnsCreate(path: string): void;
  /** flock(2) LOCK_EX or LOCK_SH, non-blocking: true when held, false when someone else holds it (poll). */
  flock(fd: number, exclusive: boolean): boolean;
  /**
   * idmapOverlay for Linux 5.19-6.14: the idmapped clones are attached at `scratch`/N (an existing
   * empty dir with a short path) for mount(2) and detached again before it returns.
   */
  idmapOverlayAttached(target: string, lowers: string[], upperParent: string, upperName: string, workName: string, data: string[], usernsFd: number, scratch: string): void;
}

export const MS_BIND = 0x1000;
export const MNT_DETACH = 0x2;

export const S_IFMT = 0o170000;
export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

let loaded: FsOps | undefined;

/** The addon, found beside the built tree (dist/src/sys or the bundle in dist/bin) or at $BERTH_NATIVE_DIR. */
export function fsOps(): FsOps {
  if (loaded) return loaded;
  const name = 'berth-fsops.node';
  const candidates: string[] = [];
  if (process.env.BERTH_NATIVE_DIR) candidates.push(join(process.env.BERTH_NATIVE_DIR, name));
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    candidates.push(join(dir, 'native', 'build', name));
    if (dirname(dir) === dir) break;
  }
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new BerthError('NOT_IMPLEMENTED', `load native fs helper ${name}: not found (run "make -C native" or set BERTH_NATIVE_DIR)`);
  }
  loaded = createRequire(import.meta.url)(found) as FsOps;
  return loaded;
}

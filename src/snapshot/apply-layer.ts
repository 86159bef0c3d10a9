import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  chmodSync,
  readdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { Readable } from 'node:stream';
import { BerthError } from '../errors/index.js';
import { fsOps, S_IFBLK, S_IFCHR, S_IFIFO, type FsOps } from '../sys/fsops.js';
import { baseOf, cleanEntryPath, parentOf, RootDirs } from './path.js';
import { TarReader, type TarHeader, type TarSink } from './tar.js';

/**
 * How a layer lands in its directory.
 * - `overlay`: the dir is this layer alone (an overlayfs layer). Whiteouts become overlayfs
 *   whiteouts (a 0:0 character device) and opaque dirs get `trusted.overlay.opaque=y`, so
 *   every layer can unpack into its own empty dir, in parallel with the others.
 * - `native`: the dir already holds a copy of the parent's tree; whiteouts delete from it.
 */
export type LayerFormat = 'overlay' | 'native';

export interface ApplyLayerOptions {
  format: LayerFormat;
  /** Create character and block devices found in the layer (default true, as docker does as root). */
  allowDevices?: boolean;
  /**
   * Small files created at once on the libuv pool (overlay format only; default 8, 1 = all
   * synchronous). File creation is kernel-bound on some file systems (ext4 without a journal
   * scans recently deleted inodes), and parallel creation uses more than one core.
   */
  concurrency?: number;
}

export interface ApplyLayerResult {
  /** Bytes of regular-file content written. */
  size: number;
  /** Entries applied (whiteouts included). */
  entries: number;
}

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';
const O_CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const UMASK = process.umask();
/** Files up to this size are created whole on the pool; bigger ones stream synchronously. */
const SMALL_FILE = 1 << 20;
/** Bounds on files read ahead of the pool: their content is held in memory meanwhile. */
const MAX_WAITING = 4096;
const MAX_WAITING_BYTES = 64 << 20;

type Call = [0, TarHeader] | [1, Buffer] | [2];

/**
 * Unpack one uncompressed layer tar into `dir`, following the image-spec layer rules
 * (image-spec layer.md: changesets, whiteouts, opaque whiteouts). The caller decompresses
 * and verifies digests. Entries are applied while the stream arrives, with synchronous
 * fs calls (one event-loop turn per input chunk, not per entry), except that small files of
 * an overlay layer are created on the libuv pool, several at once (see `concurrency`); big
 * files stream straight to their fd. Directory mtimes are set last, after their content.
 *
 * Hostile input (absolute paths, `..` climbing out, paths through symlinks, hardlinks out of
 * the root, devices when not allowed) rejects with INVALID_ARGUMENT/PERMISSION_DENIED;
 * `dir` is then left as it is for the caller to remove.
 */
export async function applyLayer(tar: Readable, dir: string, opts: ApplyLayerOptions): Promise<ApplyLayerResult> {
  const applier = new Applier(dir, opts);
  const reader = new TarReader(applier);
  try {
    for await (const chunk of tar) {
      reader.push(chunk as Buffer);
      await applier.drain();
    }
    reader.finish();
    await applier.drain();
    await applier.settled();
    applier.finish();
  } catch (err) {
    await applier.abort();
    throw BerthError.wrap(err, `apply layer to ${JSON.stringify(dir)}`);
  }
  return { size: applier.size, entries: applier.entries };
}

class Applier implements TarSink {
  readonly #dirs: RootDirs;
  readonly #native: boolean;
  readonly #allowDevices: boolean;
  #ops: FsOps | undefined;
  /** Directory mtimes, applied last (creating an entry in a dir changes the dir's mtime). */
  readonly #dirTimes = new Map<string, number>();
  /** native: paths this layer wrote, which an opaque whiteout must keep. */
  readonly #touched = new Set<string>();
  #fd = -1;
  #file: { header: TarHeader; path: string; parentSetgid: boolean } | null = null;
  size = 0;
  entries = 0;
  // Parallel small-file creation (overlay format): see #job and drain().
  readonly #concurrency: number;
  /** Paths this layer wrote or is writing; another entry at one of them may replace it. */
  readonly #written = new Set<string>();
  /** Paths of files being created on the pool, or waiting to be. */
  readonly #jobRels = new Set<string>();
  readonly #waiting: (() => void)[] = [];
  #inflight = 0;
  #waitingBytes = 0;
  #jobError: unknown = null;
  #idle: (() => void) | null = null;
  /** Woken by every finished file, for drain()'s read-ahead bound. */
  #wake: (() => void) | null = null;
  /** The small file whose content is being collected for a job. */
  #collect: { header: TarHeader; rel: string; path: string; parentSetgid: boolean; chunks: Buffer[] } | null = null;
  /**
   * Calls recorded instead of made: an entry conflicted with files still being created, so
   * it and everything after it wait until those are done (drain() replays them in order).
   */
  #deferred: Call[] | null = null;

  constructor(root: string, opts: ApplyLayerOptions) {
    this.#dirs = new RootDirs(root);
    this.#native = opts.format === 'native';
    this.#allowDevices = opts.allowDevices ?? true;
    this.#concurrency = this.#native ? 1 : Math.max(1, opts.concurrency ?? 8);
  }

  get #fs(): FsOps {
    return (this.#ops ??= fsOps());
  }

  entry(h: TarHeader): void {
    if (this.#deferred) {
      this.#deferred.push([0, h]);
      return;
    }
    try {
      const rel = cleanEntryPath(h.name);
      if (this.#pending() && this.#conflicts(h, rel)) {
        this.#deferred = [[0, h]];
        return;
      }
      this.entries++;
      // A path this layer already wrote is replaced on the synchronous path, which removes first.
      const fresh = this.#concurrency > 1 && !this.#written.has(rel) && !this.#dirs.isDir(rel);
      if (!this.#native) this.#written.add(rel);
      if (fresh && h.type === 'file' && h.size <= SMALL_FILE && !h.xattrs && !baseOf(rel).startsWith(WH) && rel !== '') {
        const parent = parentOf(rel);
        const parentAbs = this.#dirs.dir(parent, h.name, true) as string;
        this.#collect = { header: h, rel, path: `${parentAbs}/${baseOf(rel)}`, parentSetgid: this.#dirs.setgid(parent), chunks: [] };
        this.#jobRels.add(rel);
        return;
      }
      this.#entry(h, rel);
    } catch (err) {
      if (err instanceof BerthError) throw err;
      throw BerthError.wrap(err, `entry ${JSON.stringify(h.name)}`);
    }
  }

  data(chunk: Buffer): void {
    if (this.#deferred) {
      this.#deferred.push([1, chunk]);
      return;
    }
    if (this.#collect) {
      this.#collect.chunks.push(chunk);
      return;
    }
    if (this.#fd < 0) return;
    let off = 0;
    while (off < chunk.length) off += writeSync(this.#fd, chunk, off, chunk.length - off);
  }

  end(): void {
    if (this.#deferred) {
      this.#deferred.push([2]);
      return;
    }
    if (this.#collect) {
      const c = this.#collect;
      this.#collect = null;
      this.#job(c.header, c.rel, c.path, c.parentSetgid, c.chunks);
      return;
    }
    const f = this.#file;
    if (!f) return;
    this.#file = null;
    const fd = this.#fd;
    this.#fd = -1;
    const h = f.header;
    try {
      if (h.uid !== 0 || h.gid !== 0 || f.parentSetgid) fchownSync(fd, h.uid, h.gid);
      // chown clears setuid/setgid, so the mode goes after it (chown(2)).
      if (h.mode & 0o7000 || h.mode & UMASK) fchmodSync(fd, h.mode);
      if (h.xattrs) this.#xattrs(f.path, h);
      futimesSync(fd, h.mtime, h.mtime);
    } catch (err) {
      throw BerthError.wrap(err, `entry ${JSON.stringify(h.name)}`);
    } finally {
      closeSync(fd);
    }
    this.size += h.size;
  }

  finish(): void {
    for (const [rel, mtime] of this.#dirTimes) lutimesSync(this.#dirs.abs(rel), mtime, mtime);
  }

  async abort(): Promise<void> {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
    this.#waiting.length = 0;
    // No write may land after the caller starts removing the dir.
    await new Promise<void>((resolve) => {
      if (this.#inflight === 0) resolve();
      else this.#idle = resolve;
    });
  }

  #pending(): boolean {
    return this.#inflight > 0 || this.#waiting.length > 0;
  }

  /**
   * Whether an entry must wait for the files being created: it touches one of their paths,
   * may replace (remove) something this layer wrote, or is a whiteout (which looks at what
   * exists). Everything else (new dirs, new files, new symlinks) goes ahead.
   */
  #conflicts(h: TarHeader, rel: string): boolean {
    if (this.#written.has(rel) || this.#jobRels.has(rel) || this.#dirs.isDir(rel) || baseOf(rel).startsWith(WH)) return true;
    // A file being created where this entry needs a parent directory.
    for (let p = parentOf(rel); p !== ''; p = parentOf(p)) if (this.#jobRels.has(p)) return true;
    return h.type === 'link' && this.#jobRels.has(cleanEntryPath(h.linkname));
  }

  /** Create a small file on the pool: open(O_EXCL|O_NOFOLLOW), write, chown, chmod, futimens, close. */
  #job(h: TarHeader, rel: string, path: string, parentSetgid: boolean, chunks: Buffer[]): void {
    const run = (): void => {
      this.#inflight++;
      const sec = Math.floor(h.mtime);
      const nsec = Math.round((h.mtime - sec) * 1e9);
      const chown = h.uid !== 0 || h.gid !== 0 || parentSetgid;
      const chmod = (h.mode & 0o7000) !== 0 || (h.mode & UMASK) !== 0;
      this.#fs.writeFile(path, h.mode, h.uid, h.gid, chown, chmod, sec, nsec, chunks, (err) => {
        this.#inflight--;
        this.#jobRels.delete(rel);
        if (err && this.#jobError === null) this.#jobError = BerthError.wrap(err, `entry ${JSON.stringify(h.name)}`);
        if (!err) this.size += h.size;
        const wake = this.#wake;
        this.#wake = null;
        wake?.();
        const next = this.#jobError === null ? this.#waiting.shift() : undefined;
        if (next) next();
        else if (this.#inflight === 0 && this.#idle) {
          const idle = this.#idle;
          this.#idle = null;
          idle();
        }
      });
    };
    if (this.#inflight < this.#concurrency) run();
    else {
      this.#waitingBytes += h.size;
      this.#waiting.push(() => {
        this.#waitingBytes -= h.size;
        run();
      });
    }
  }

  /** Wait until every queued file is created; throws the first failure. */
  settled(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.#jobError !== null) return reject(this.#jobError);
        if (!this.#pending()) return resolve();
        this.#idle = check;
      };
      check();
    });
  }

  /**
   * Between input chunks: bound the queue of files waiting for the pool, and replay the calls
   * deferred by a conflict once the files they wait for exist.
   */
  async drain(): Promise<void> {
    for (;;) {
      if (this.#jobError !== null) throw this.#jobError;
      if (this.#deferred) {
        await this.settled();
        const calls = this.#deferred;
        this.#deferred = null;
        for (let i = 0; i < calls.length; i++) {
          if (this.#deferred) {
            (this.#deferred as Call[]).push(...calls.slice(i));
            break;
          }
          const c = calls[i];
          if (c[0] === 0) this.entry(c[1]);
          else if (c[0] === 1) this.data(c[1]);
          else this.end();
        }
        continue;
      }
      if (this.#waiting.length > MAX_WAITING || this.#waitingBytes > MAX_WAITING_BYTES) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      return;
    }
  }

  #entry(h: TarHeader, rel: string): void {
    const base = baseOf(rel);
    if (base.startsWith(WH)) return this.#whiteout(h, rel, base);
    if (rel === '') {
      if (h.type !== 'dir') throw new BerthError('INVALID_ARGUMENT', `entry ${JSON.stringify(h.name)}: the root must be a directory`);
      return this.#dir(h, '', this.#dirs.root, false);
    }
    const parent = parentOf(rel);
    const parentAbs = this.#dirs.dir(parent, h.name, true) as string;
    const path = `${parentAbs}/${base}`;
    const parentSetgid = this.#dirs.setgid(parent);
    if (this.#native) this.#touch(rel);
    switch (h.type) {
      case 'file':
        this.#fd = this.#create(rel, path, h, () => openSync(path, O_CREATE, h.mode & 0o777));
        this.#file = { header: h, path, parentSetgid };
        return;
      case 'dir':
        return this.#dir(h, rel, path, parentSetgid);
      case 'symlink':
        this.#create(rel, path, h, () => symlinkSync(h.linkname, path));
        if (h.uid !== 0 || h.gid !== 0 || parentSetgid) lchownSync(path, h.uid, h.gid);
        if (h.xattrs) this.#xattrs(path, h);
        lutimesSync(path, h.mtime, h.mtime);
        return;
      case 'link':
        return this.#hardlink(h, rel, path);
      case 'char':
      case 'block':
      case 'fifo': {
        if (h.type !== 'fifo' && !this.#allowDevices) {
          throw new BerthError('PERMISSION_DENIED', `entry ${JSON.stringify(h.name)}: device nodes are not allowed in this layer`);
        }
        const type = h.type === 'char' ? S_IFCHR : h.type === 'block' ? S_IFBLK : S_IFIFO;
        this.#create(rel, path, h, () => this.#fs.mknod(path, type | (h.mode & 0o777), h.devmajor, h.devminor));
        this.#meta(path, h, parentSetgid);
        return;
      }
    }
  }

  /** Run create(); if the name is taken, remove what is there (never following it) and retry. */
  #create<T>(rel: string, path: string, h: TarHeader, create: () => T): T {
    try {
      return create();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    this.#remove(rel, path);
    return create();
  }

  #remove(rel: string, path: string): void {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      rmSync(path, { recursive: true, force: true });
      this.#dirs.forget(rel);
      const prefix = `${rel}/`;
      for (const k of this.#dirTimes.keys()) if (k === rel || k.startsWith(prefix)) this.#dirTimes.delete(k);
    } else unlinkSync(path);
  }

  #dir(h: TarHeader, rel: string, path: string, parentSetgid: boolean): void {
    let existed = false;
    let opaque = false;
    try {
      mkdirSync(path, h.mode & 0o777);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = lstatSync(path);
      if (st.isDirectory()) existed = true;
      else {
        // overlay: a dir replacing this layer's whiteout must still hide the lower dir's content.
        opaque = !this.#native && st.isCharacterDevice() && st.rdev === 0;
        this.#remove(rel, path);
        mkdirSync(path, h.mode & 0o777);
      }
    }
    if (opaque) this.#fs.lsetxattr(path, 'trusted.overlay.opaque', Buffer.from('y'));
    if (existed || h.uid !== 0 || h.gid !== 0 || parentSetgid) lchownSync(path, h.uid, h.gid);
    // A new dir in a setgid dir inherits the setgid bit (mkdir(2)), so it is chmod-ed too.
    if (existed || parentSetgid || h.mode & 0o7000 || h.mode & UMASK) chmodSync(path, h.mode);
    if (h.xattrs) this.#xattrs(path, h);
    this.#dirs.known(rel, h.mode);
    this.#dirTimes.set(rel, h.mtime);
  }

  #hardlink(h: TarHeader, rel: string, path: string): void {
    const target = cleanEntryPath(h.linkname);
    const name = JSON.stringify(h.name);
    if (target === '') throw new BerthError('INVALID_ARGUMENT', `entry ${name}: hardlink to the root`);
    const targetParent = this.#dirs.dir(parentOf(target), h.name, false);
    const targetPath = targetParent === null ? null : `${targetParent}/${baseOf(target)}`;
    const st = targetPath === null ? undefined : lstatSync(targetPath, { throwIfNoEntry: false });
    if (!st || targetPath === null) {
      const where = this.#native ? 'in this layer or its parents' : 'in this layer (overlay layers unpack alone)';
      throw new BerthError('INVALID_ARGUMENT', `entry ${name}: hardlink target ${JSON.stringify(h.linkname)} not found ${where}`);
    }
    if (st.isDirectory()) throw new BerthError('INVALID_ARGUMENT', `entry ${name}: hardlink to a directory`);
    if (targetPath === path) return;
    this.#create(rel, path, h, () => linkSync(targetPath, path));
  }

  #whiteout(h: TarHeader, rel: string, base: string): void {
    const parent = parentOf(rel);
    if (base === OPAQUE) {
      if (this.#native) {
        const abs = this.#dirs.dir(parent, h.name, true) as string;
        this.#touch(parent);
        this.#clearUntouched(parent, abs);
      } else {
        const abs = this.#dirs.dir(parent, h.name, true) as string;
        this.#fs.lsetxattr(abs, 'trusted.overlay.opaque', Buffer.from('y'));
      }
      return;
    }
    if (base.startsWith(`${WH}${WH}`)) return; // other AUFS meta entries (.wh..wh.plnk, ...) carry nothing
    const name = base.slice(WH.length);
    if (name === '' || name === '.' || name === '..') {
      throw new BerthError('INVALID_ARGUMENT', `entry ${JSON.stringify(h.name)}: whiteout of an invalid name`);
    }
    const victim = parent === '' ? name : `${parent}/${name}`;
    // A whiteout hides only what the lower layers have; what this layer itself writes under
    // the same name stays (image-spec layer.md "Whiteouts"), in whatever order they come.
    if (this.#native) {
      const abs = this.#dirs.dir(parent, h.name, false);
      if (abs === null) return;
      const path = `${abs}/${name}`;
      if (!this.#touched.has(victim)) this.#remove(victim, path);
      else if (lstatSync(path).isDirectory()) this.#clearUntouched(victim, path);
      return;
    }
    // overlayfs whiteout: a character device with device number 0:0 (overlayfs.rst "whiteouts").
    // The dir starts empty, so anything already at that name is this layer's own: a dir of
    // this layer becomes opaque instead, a file of this layer already hides the lower one.
    const abs = this.#dirs.dir(parent, h.name, true) as string;
    const path = `${abs}/${name}`;
    this.#written.add(victim);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) this.#fs.mknod(path, S_IFCHR, 0, 0);
    else if (st.isDirectory()) this.#fs.lsetxattr(path, 'trusted.overlay.opaque', Buffer.from('y'));
  }

  /** native opaque dir: delete what the parent layers put in `rel`, keep what this layer wrote. */
  #clearUntouched(rel: string, abs: string): void {
    for (const name of readdirSync(abs)) {
      const child = rel === '' ? name : `${rel}/${name}`;
      const p = `${abs}/${name}`;
      if (!this.#touched.has(child)) this.#remove(child, p);
      else if (lstatSync(p).isDirectory()) this.#clearUntouched(child, p);
    }
  }

  #touch(rel: string): void {
    // Parents count as written too, so that an opaque whiteout higher up keeps the path.
    for (let r = rel; r !== '' && !this.#touched.has(r); r = parentOf(r)) this.#touched.add(r);
  }

  #meta(path: string, h: TarHeader, parentSetgid: boolean): void {
    if (h.uid !== 0 || h.gid !== 0 || parentSetgid) lchownSync(path, h.uid, h.gid);
    if (h.mode & 0o7000 || h.mode & UMASK) chmodSync(path, h.mode);
    if (h.xattrs) this.#xattrs(path, h);
    lutimesSync(path, h.mtime, h.mtime);
  }

  #xattrs(path: string, h: TarHeader): void {
    for (const [name, value] of h.xattrs ?? []) {
      // trusted.overlay.* belongs to the overlay driver; a layer must not forge whiteouts or redirects.
      if (name.startsWith('trusted.overlay.')) continue;
      this.#fs.lsetxattr(path, name, value);
    }
  }
}

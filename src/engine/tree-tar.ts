/**
 * A directory tree as a tar stream and back, both confined to a root: what `berth cp` and the
 * Docker API's archive GET/PUT move. Every path is resolved with secureJoin, so a symlink in
 * the container (say `/evil -> /`) resolves inside the container's rootfs, never on the host.
 */
import { createReadStream, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, linkSync, chmodSync, lchownSync, utimesSync, createWriteStream, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack, type Header } from 'tar-stream';

type Headers = Partial<Header> & Pick<Header, 'name'>;
import { BerthError } from '../errors/index.js';
import { secureJoin } from '../sys/secure-join.js';

/** What a path in a root is (docker's X-Docker-Container-Path-Stat: name, size, mode, mtime, linkTarget). */
export interface PathStat {
  name: string;
  size: number;
  /** st_mode's permission and type bits. */
  mode: number;
  mtime: Date;
  linkTarget: string;
  isDir: boolean;
}

/**
 * The host path of `path` inside `root`: the parent resolved with secureJoin (symlinks stay in
 * root), the last component kept as it is, so a symlink itself can be copied. `/.` keeps its
 * meaning "the directory's contents" for the caller: it is stripped here.
 */
export function resolveInRoot(root: string, path: string): string {
  const clean = posix.normalize(`/${path}`);
  if (clean === '/') return secureJoin(root, '/');
  const parent = secureJoin(root, posix.dirname(clean));
  return posix.join(parent, posix.basename(clean));
}

/** lstat of `path` inside root, or undefined if it does not exist. */
export function statInRoot(root: string, path: string): PathStat | undefined {
  const host = resolveInRoot(root, path);
  let st: Stats;
  try {
    st = lstatSync(host);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw BerthError.wrap(err, `stat ${JSON.stringify(path)}`);
  }
  return {
    name: posix.basename(posix.normalize(`/${path}`)) || '/',
    size: st.size,
    mode: st.mode,
    mtime: st.mtime,
    linkTarget: st.isSymbolicLink() ? readlinkSync(host) : '',
    isDir: st.isDirectory(),
  };
}

export interface PackOptions {
  /** Name of the top entry in the archive (default: the path's base name); `.` for a dir's contents only. */
  rebaseName?: string;
  /** The owner to write in the archive for an owner on the host (a --userns container's ids are shifted on the host). */
  mapOwner?: (o: Owner) => Owner;
}

export interface Owner {
  uid: number;
  gid: number;
}

/**
 * A tar stream of `path` inside root (recursively for a directory): regular files, dirs,
 * symlinks (as links, never followed), with their mode, owner and mtime. Hard links are
 * stored as copies; device nodes, fifos and sockets are skipped.
 */
export function packTree(root: string, path: string, opts: PackOptions = {}): Readable {
  const top = resolveInRoot(root, path);
  const st0 = lstatSync(top); // throws ENOENT for the caller, before the stream starts
  const p = pack();
  const out = new PassThrough();
  const rebase = opts.rebaseName ?? (posix.basename(posix.normalize(`/${path}`)) || '.');
  const walk = async (host: string, name: string, st: Stats): Promise<void> => {
    const o = opts.mapOwner ? opts.mapOwner({ uid: st.uid, gid: st.gid }) : { uid: st.uid, gid: st.gid };
    const h: Headers = { name, mode: st.mode & 0o7777, uid: o.uid, gid: o.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      if (name !== '.') await entry(p, { ...h, name: `${name}/`, type: 'directory' });
      for (const child of readdirSync(host).sort()) {
        const ch = posix.join(host, child);
        await walk(ch, name === '.' ? child : `${name}/${child}`, lstatSync(ch));
      }
    } else if (st.isSymbolicLink()) {
      await entry(p, { ...h, type: 'symlink', linkname: readlinkSync(host) });
    } else if (st.isFile()) {
      await new Promise<void>((resolve, reject) => {
        const e = p.entry({ ...h, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
        pipeline(createReadStream(host), e).catch(reject);
      });
    }
  };
  walk(top, rebase, st0)
    .then(() => p.finalize())
    .catch((err: unknown) => p.destroy(BerthError.wrap(err, `archive ${JSON.stringify(path)}`)));
  p.on('error', (err) => out.destroy(err));
  p.pipe(out);
  return out;
}

function entry(p: ReturnType<typeof pack>, h: Headers): Promise<void> {
  return new Promise((resolve, reject) => p.entry(h, (err) => (err ? reject(err) : resolve())));
}

export interface ExtractOptions {
  /** Owner of what is written: 'keep' the archive's, or these ids (docker cp: root in the container). */
  owner: 'keep' | Owner;
  /** The host owner to give a file for the owner chosen above (a --userns container's ids are shifted on the host). */
  mapOwner?: (o: Owner) => Owner;
}

/**
 * Unpack a tar stream into `dir` inside root. Each entry's parent is resolved with secureJoin
 * (a symlink planted in root cannot send a write outside it); an existing non-directory at an
 * entry's place is replaced, an existing directory kept (its mode updated); modes and mtimes
 * are the archive's.
 */
export async function extractTree(root: string, dir: string, tar: Readable, opts: ExtractOptions): Promise<void> {
  const x = extract();
  const dirTimes: [string, Date][] = [];
  x.on('entry', (h, stream, next) => {
    const done = (err?: unknown) => (err ? x.destroy(BerthError.wrap(err, `extract ${JSON.stringify(h.name)}`)) : next());
    try {
      const rel = posix.normalize(`/${h.name}`);
      if (rel === '/' && h.type === 'directory') {
        stream.resume();
        return done();
      }
      const target = resolveInRoot(root, posix.join(dir, rel));
      const existing = lstatOr(target);
      if (existing && !(existing.isDirectory() && h.type === 'directory')) rmSync(target, { recursive: true, force: true });
      const mode = (h.mode ?? 0o644) & 0o7777;
      const own = () => {
        const chosen = opts.owner === 'keep' ? { uid: h.uid ?? 0, gid: h.gid ?? 0 } : opts.owner;
        const o = opts.mapOwner ? opts.mapOwner(chosen) : chosen;
        lchownSync(target, o.uid, o.gid);
      };
      switch (h.type) {
        case 'directory':
          if (!existing?.isDirectory()) mkdirSync(target, { mode });
          own();
          chmodSync(target, mode);
          if (h.mtime) dirTimes.push([target, h.mtime]);
          stream.resume();
          return done();
        case 'symlink':
          symlinkSync(h.linkname ?? '', target);
          own();
          stream.resume();
          return done();
        case 'link': {
          const src = resolveInRoot(root, posix.join(dir, posix.normalize(`/${h.linkname ?? ''}`)));
          linkSync(src, target);
          stream.resume();
          return done();
        }
        case 'file':
        case 'contiguous-file':
        case undefined:
        case null: {
          const ws = createWriteStream(target, { mode, flags: 'wx' });
          pipeline(stream, ws)
            .then(() => {
              own();
              chmodSync(target, mode); // the umask narrowed open(2)'s mode
              if (h.mtime) utimesSync(target, h.mtime, h.mtime);
              done();
            })
            .catch(done);
          return;
        }
        default:
          stream.resume(); // devices, fifos: not copied
          return done();
      }
    } catch (err) {
      stream.resume();
      done(err);
    }
  });
  await pipeline(tar, x);
  for (const [p, t] of dirTimes.reverse()) utimesSync(p, t, t);
}

function lstatOr(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

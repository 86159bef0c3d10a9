/**
 * A container's changes, read from its overlay upperdir (the active snapshot's own layer):
 * docker diff's A/C/D list, and the same changes as an OCI layer tar, with overlayfs'
 * whiteouts turned back into the image-spec's (image-spec layer.md "Whiteouts"): a 0/0
 * character device becomes `.wh.<name>`, an opaque directory (xattr trusted.overlay.opaque=y,
 * overlayfs.rst) gets a `.wh..wh..opq` entry.
 */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { pack, type Header } from 'tar-stream';
import { BerthError } from '../../errors/index.js';
import type { Mount } from '../../snapshot/index.js';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type ChangeKind = 'A' | 'C' | 'D';
export interface Change {
  kind: ChangeKind;
  path: string;
}

/** upperdir and lowerdirs of an overlay mount (an active snapshot's). */
export function overlayDirs(mounts: Mount[]): { upper: string; lowers: string[] } {
  const m = mounts.find((x) => x.type === 'overlay');
  const opt = (k: string) => m?.options.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
  const upper = opt('upperdir');
  if (!m || !upper) throw new BerthError('NOT_IMPLEMENTED', 'the container has no overlay upper dir (native snapshotter): changes and commit need the overlay snapshotter');
  return { upper, lowers: (opt('lowerdir') ?? '').split(':').filter(Boolean) };
}

/** Directories marked opaque in the upper dir (getfattr(1) from the attr package: Node has no xattr call). */
export function opaqueDirs(upper: string): Promise<Set<string>> {
  return new Promise((resolve) => {
    execFile('getfattr', ['-R', '-h', '--absolute-names', '-n', 'trusted.overlay.opaque', upper], { maxBuffer: 64 << 20 }, (err, stdout) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        process.stderr.write('berth: warning: getfattr (package attr) is missing: opaque directories are not seen\n');
      }
      const out = new Set<string>();
      let file = '';
      for (const line of String(stdout ?? '').split('\n')) {
        if (line.startsWith('# file: ')) file = line.slice(8);
        else if (line.startsWith('trusted.overlay.opaque="y"') && file) out.add(file);
      }
      resolve(out);
    });
  });
}

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

interface Entry {
  /** Path in the container, e.g. /etc/x. */
  path: string;
  host: string;
  st: Stats;
  whiteout: boolean;
  opaque: boolean;
}

function walkUpper(upper: string, opaque: Set<string>): Entry[] {
  const out: Entry[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const host = posix.join(dir, name);
      const path = posix.join(rel, name);
      const st = lstatSync(host);
      out.push({ path, host, st, whiteout: isWhiteout(st), opaque: st.isDirectory() && opaque.has(host) });
      if (st.isDirectory()) walk(host, path);
    }
  };
  walk(upper, '/');
  return out;
}

/** docker diff: A added, C changed, D deleted, sorted by path. */
export async function upperChanges(mounts: Mount[]): Promise<Change[]> {
  const { upper, lowers } = overlayDirs(mounts);
  const inLower = (p: string) => lowers.some((l) => existsSync(posix.join(l, p)) || isLink(posix.join(l, p)));
  const out: Change[] = [];
  for (const e of walkUpper(upper, await opaqueDirs(upper))) {
    if (e.whiteout) out.push({ kind: 'D', path: e.path });
    else out.push({ kind: inLower(e.path) ? 'C' : 'A', path: e.path });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * The upper dir as an uncompressed layer tar (image-spec whiteouts). Hard links become copies.
 * `idRange` (a --userns container): owners in the range are written back as container ids.
 */
export async function upperLayerTar(mounts: Mount[], idRange?: { uid: number; gid: number; size: number }): Promise<Readable> {
  const { upper } = overlayDirs(mounts);
  const entries = walkUpper(upper, await opaqueDirs(upper));
  const p = pack();
  // an entry without a body still gets an empty buffer: tar-stream waits for a file's body
  const add = (h: Partial<Header> & { name: string }) => new Promise<void>((res, rej) => p.entry(h, Buffer.alloc(0), (err) => (err ? rej(err) : res())));
  (async () => {
    for (const e of entries) {
      const name = e.path.slice(1);
      const unshift = (id: number, start: number) => (idRange && id >= start && id < start + idRange.size ? id - start : id);
      const base = { mode: e.st.mode & 0o7777, uid: unshift(e.st.uid, idRange?.uid ?? 0), gid: unshift(e.st.gid, idRange?.gid ?? 0), mtime: e.st.mtime };
      if (e.whiteout) {
        await add({ name: posix.join(posix.dirname(name), `.wh.${posix.basename(name)}`), mode: 0o600, size: 0, mtime: e.st.mtime });
      } else if (e.st.isDirectory()) {
        await add({ ...base, name: `${name}/`, type: 'directory' });
        if (e.opaque) await add({ name: `${name}/.wh..wh..opq`, mode: 0o600, size: 0, mtime: e.st.mtime });
      } else if (e.st.isSymbolicLink()) {
        await add({ ...base, name, type: 'symlink', linkname: readlinkSync(e.host) });
      } else if (e.st.isFile()) {
        await new Promise<void>((res, rej) => {
          const w = p.entry({ ...base, name, type: 'file', size: e.st.size }, (err) => (err ? rej(err) : res()));
          pipeline(createReadStream(e.host), w).catch(rej);
        });
      } else if (e.st.isFIFO()) {
        await add({ ...base, name, type: 'fifo' });
      } else if (e.st.isCharacterDevice() || e.st.isBlockDevice()) {
        const major = Math.floor(e.st.rdev / 256) & 0xfff;
        const minor = (e.st.rdev & 0xff) | ((e.st.rdev >> 12) & 0xfff00);
        await add({ ...base, name, type: e.st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major, devminor: minor });
      }
    }
    p.finalize();
  })().catch((err: unknown) => p.destroy(BerthError.wrap(err, 'write the layer tar')));
  return p as unknown as Readable;
}

/** A tree-walk comparer: what a rootfs looks like, entry by entry, for comparing unpackers. */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fsOps } from '../../../src/sys/fsops.js';

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';
  mode: string;
  uid: number;
  gid: number;
  /** sha256 of a file's content, a symlink's target, or a device's major:minor. */
  content: string;
  /** Sorted `name=hex` of the xattrs a process sees through the mount. */
  xattrs: string[];
  /** Non-directories: mtime in whole seconds. */
  mtime?: number;
  /** The first path (in walk order) with the same inode, for hardlinks. */
  linkOf?: string;
}

export function describeTree(root: string): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const inodes = new Map<string, string>();
  const ops = fsOps();
  const visit = (rel: string): void => {
    const p = rel === '' ? root : `${root}/${rel}`;
    const st = lstatSync(p);
    const type = st.isFile()
      ? 'file'
      : st.isDirectory()
        ? 'dir'
        : st.isSymbolicLink()
          ? 'symlink'
          : st.isCharacterDevice()
            ? 'char'
            : st.isBlockDevice()
              ? 'block'
              : st.isFIFO()
                ? 'fifo'
                : 'socket';
    let content = '';
    if (type === 'file') content = createHash('sha256').update(readFileSync(p)).digest('hex');
    else if (type === 'symlink') content = readlinkSync(p);
    else if (type === 'char' || type === 'block') content = `${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}`;
    const xattrs = ops
      .llistxattr(p)
      .sort()
      .map((n) => `${n}=${ops.lgetxattr(p, n)?.toString('hex') ?? ''}`);
    const e: TreeEntry = { type, mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid, content, xattrs };
    if (type !== 'dir') {
      // Directory mtimes are left out: umoci leaves "now" on dirs it created implicitly or
      // emptied for a whiteout; berth's are checked on their own in the test.
      e.mtime = Math.floor(st.mtimeMs / 1000);
      if (st.nlink > 1) {
        const id = `${st.dev}:${st.ino}`;
        const first = inodes.get(id);
        if (first) e.linkOf = first;
        else inodes.set(id, rel);
      }
    }
    out.set(rel, e);
    if (type === 'dir') for (const name of readdirSync(p).sort()) visit(rel === '' ? name : `${rel}/${name}`);
  };
  visit('');
  return out;
}

/** Differences between two trees, one line each (empty when identical). */
export function diffTrees(want: Map<string, TreeEntry>, got: Map<string, TreeEntry>): string[] {
  const lines: string[] = [];
  for (const [path, w] of want) {
    const g = got.get(path);
    if (!g) lines.push(`missing: /${path} (${w.type})`);
    else if (JSON.stringify(w) !== JSON.stringify(g)) lines.push(`differs: /${path}\n  want ${JSON.stringify(w)}\n  got  ${JSON.stringify(g)}`);
  }
  for (const [path, g] of got) if (!want.has(path)) lines.push(`extra: /${path} (${g.type})`);
  return lines;
}

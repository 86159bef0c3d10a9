import { lstatSync, mkdirSync } from 'node:fs';
import { BerthError } from '../errors/index.js';

/**
 * Safe path handling for layer unpacking. Node cannot reach openat2(RESOLVE_IN_ROOT), so an
 * entry path is first cleaned lexically (no absolute paths, no `..` that climbs out), then its
 * parent directories are walked one component at a time with lstat, never following a
 * symlink: a symlink (or a non-directory) anywhere in the parent path is an error, whether
 * an earlier entry of this layer planted it or it came with the parent snapshot.
 */

function hostile(name: string, why: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', `entry ${JSON.stringify(name)}: ${why}`);
}

/**
 * Clean a tar entry name into a path relative to the root ('' is the root itself).
 * `./a//b/` -> `a/b`; `a/../b` -> `b`. Refuses absolute paths and `..` that climbs out of the
 * root (docker strips a leading `/` instead; berth refuses, since no layer builder writes one).
 */
export function cleanEntryPath(name: string): string {
  if (name.startsWith('/')) throw hostile(name, 'absolute path');
  if (name.includes('\0')) throw hostile(name, 'NUL byte in path');
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) throw hostile(name, 'path climbs out of the root');
      out.pop();
    } else out.push(c);
  }
  return out.join('/');
}

/** The parent of a cleaned relative path ('' for a top-level entry). */
export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

export function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

const S_ISGID = 0o2000;

/**
 * Resolves directories under one root by walking components, caching the ones known to be
 * real directories (created or checked). Anything that removes a path must call forget().
 */
export class RootDirs {
  readonly root: string;
  /** Relative dir path -> whether it has the setgid bit (new entries inherit its group). */
  readonly #dirs = new Map<string, boolean>();
  /** Directories this walker created because an entry needed them. */
  readonly created: string[] = [];

  constructor(root: string) {
    this.root = root;
    const st = lstatSync(root);
    if (!st.isDirectory()) throw new BerthError('INVALID_ARGUMENT', `unpack root ${JSON.stringify(root)}: not a directory`);
    this.#dirs.set('', (st.mode & S_ISGID) !== 0);
  }

  abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  /**
   * Make sure `dir` (relative) is a real directory reached without symlinks and return its
   * absolute path. Missing directories are created (0755, root) when `create`, else null.
   * `entry` names the tar entry for messages.
   */
  dir(dir: string, entry: string, create: boolean): string | null {
    if (this.#dirs.has(dir)) return this.abs(dir);
    const parent = parentOf(dir);
    if (dir !== '' && this.dir(parent, entry, create) === null) return null;
    const p = this.abs(dir);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) {
      if (!create) return null;
      mkdirSync(p, 0o755);
      this.created.push(dir);
      this.#dirs.set(dir, this.#dirs.get(parent) ?? false);
      return p;
    }
    if (st.isSymbolicLink()) throw hostile(entry, `path goes through the symlink ${JSON.stringify(dir)}`);
    if (!st.isDirectory()) throw hostile(entry, `${JSON.stringify(dir)} is not a directory`);
    this.#dirs.set(dir, (st.mode & S_ISGID) !== 0);
    return p;
  }

  /** Whether `rel` is known to be a directory (created or checked). */
  isDir(rel: string): boolean {
    return this.#dirs.has(rel);
  }

  /** Record a directory this unpacker made or changed itself. */
  known(dir: string, mode: number): void {
    this.#dirs.set(dir, (mode & S_ISGID) !== 0);
  }

  /** Whether new entries in `dir` inherit the directory's group (setgid dir). */
  setgid(dir: string): boolean {
    return this.#dirs.get(dir) ?? true;
  }

  /** `rel` was removed or replaced: forget it and everything under it. */
  forget(rel: string): void {
    if (!this.#dirs.has(rel)) return;
    const prefix = `${rel}/`;
    for (const k of this.#dirs.keys()) if (k === rel || k.startsWith(prefix)) this.#dirs.delete(k);
  }
}

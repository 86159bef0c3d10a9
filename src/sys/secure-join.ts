import { lstatSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { BerthError } from '../errors/index.js';

const MAX_LINKS = 255;

/**
 * Resolve `unsafe` inside `root` the way the kernel would after a chroot to `root`: symlinks
 * are followed, but `..` and absolute targets can never leave `root`. Missing components are
 * kept as they are. Use it for every path taken from an image (e.g. /etc/passwd), since an
 * image can plant a symlink that points at the host. (The securejoin idea, as runc uses it.)
 */
export function secureJoin(root: string, unsafe: string): string {
  const parts = unsafe.split('/').filter((p) => p && p !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (parts.length) {
    const part = parts.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = posix.join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch {
      isLink = false;
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new BerthError('INVALID_ARGUMENT', `resolve ${JSON.stringify(unsafe)} in ${root}: too many levels of symbolic links`);
    const target = readlinkSync(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    parts.unshift(...target.split('/').filter((p) => p && p !== '.'));
  }
  return posix.join(root, ...resolved);
}

import { execFile } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { BerthError } from '../../errors/index.js';
import { secureJoin } from '../../sys/secure-join.js';

const run = promisify(execFile);

/**
 * docker's copy-up: a volume that is empty when a container mounts it gets what the image
 * has at the mount target, files and the directory's own owner and mode, so that e.g. a
 * database image's VOLUME starts with its skeleton. Nothing happens for a volume that
 * already holds something, for a target the image lacks or that is not a directory, or with
 * `nocopy`. The target is resolved inside the rootfs, so an image's symlink cannot point the
 * copy at the host. `cp -a` keeps owners, modes, times, xattrs, hardlinks, symlinks and device
 * nodes as they are.
 */
export async function copyUpImageContent(rootfs: string, target: string, volumeDir: string): Promise<boolean> {
  const src = secureJoin(rootfs, target);
  let isDir = false;
  try {
    isDir = lstatSync(src).isDirectory();
  } catch {
    return false;
  }
  if (!isDir || readdirSync(volumeDir).length > 0) return false;
  try {
    await run('cp', ['-a', '--', `${src}/.`, `${volumeDir}/`]);
  } catch (err) {
    const e = err as { stderr?: string };
    throw new BerthError('INTERNAL', `copy the image's files at ${target} into volume ${volumeDir}: ${(e.stderr ?? String(err)).trim()}`);
  }
  return true;
}

import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BerthError } from '../errors/index.js';
import { isMounted } from '../sys/mount.js';

const run = promisify(execFile);

/** Where berth keeps a container's network namespace: `<state>/netns/<id>`, a bind mount of nsfs. */
export function netnsPath(state: string, containerId: string): string {
  return join(state, 'netns', containerId);
}

/**
 * Create a persistent network namespace at `path`: unshare(1) --net=FILE makes a new one and
 * bind-mounts its /proc/self/ns/net onto FILE (unshare(2), namespaces(7): a namespace lives
 * while a bind mount of it exists), so no process has to stay in it.
 */
export async function createNetns(path: string): Promise<void> {
  if (isMounted(path)) return;
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  try {
    await run('unshare', [`--net=${path}`, 'true']);
  } catch (err) {
    rmSync(path, { force: true });
    const e = err as { stderr?: string };
    throw new BerthError('INTERNAL', `create network namespace ${path}: ${(e.stderr ?? String(err)).trim()}`);
  }
}

/**
 * Drop berth's reference to a namespace: a lazy unmount (umount2 MNT_DETACH) and the file.
 * The kernel frees the namespace (and any veth still in it) once nothing holds it; that
 * cleanup_net work runs asynchronously, so this returns at once. Idempotent.
 */
export async function removeNetns(path: string): Promise<void> {
  if (isMounted(path)) {
    try {
      await run('umount', ['-l', '--', path]);
    } catch (err) {
      const e = err as { stderr?: string };
      if (isMounted(path)) throw new BerthError('INTERNAL', `remove network namespace ${path}: ${(e.stderr ?? String(err)).trim()}`);
    }
  }
  rmSync(path, { force: true });
}

/** The container ids that have a netns file under `<state>/netns`. */
export function listNetns(state: string): string[] {
  const dir = join(state, 'netns');
  if (!existsSync(dir)) return [];
  return readdirSync(dir);
}

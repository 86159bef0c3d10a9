import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BerthError } from '../errors/index.js';
import { fsOps, MNT_DETACH, MS_BIND, type FsOps } from '../sys/fsops.js';
import { isMounted } from '../sys/mount.js';

const run = promisify(execFile);

/** Where berth keeps a container's network namespace: `<state>/netns/<id>`, a bind mount of nsfs. */
export function netnsPath(state: string, containerId: string): string {
  return join(state, 'netns', containerId);
}

/** The addon's netns calls, or undefined (an older build without them): then unshare(1)/umount(8). */
function native(): FsOps | undefined {
  try {
    const ops = fsOps();
    return typeof ops.netnsCreate === 'function' ? ops : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Create a persistent network namespace at `path`: a new one bind-mounted from its nsfs file
 * onto FILE (unshare(2), namespaces(7): a namespace lives while a bind mount of it exists),
 * so no process has to stay in it. Through the addon (a thread unshares, ~0.5 ms), else
 * unshare(1) --net=FILE (a process, ~4 ms).
 */
export async function createNetns(path: string): Promise<void> {
  if (isMounted(path)) return;
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  try {
    const ops = native();
    if (ops) ops.netnsCreate(path);
    else await run('unshare', [`--net=${path}`, 'true']);
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
      const ops = native();
      if (ops) ops.umount2(path, MNT_DETACH);
      else await run('umount', ['-l', '--', path]);
    } catch (err) {
      const e = err as { stderr?: string };
      if (isMounted(path)) throw new BerthError('INTERNAL', `remove network namespace ${path}: ${(e.stderr ?? String(err)).trim()}`);
    }
  }
  rmSync(path, { force: true });
}

/**
 * Give the namespace mounted at `from` to the path `to` (a bind mount of the nsfs mount, then
 * `from` detached and unlinked): the namespace itself, with its interfaces, addresses and
 * routes, stays as it is. How a pooled namespace becomes a container's and goes back.
 */
export function moveNetns(from: string, to: string): void {
  const ops = native();
  if (!ops) throw new BerthError('NOT_IMPLEMENTED', `move network namespace ${from}: the native addon has no netns support (run "make -C native")`);
  // a bind of a plain file would "succeed" and hand the container no namespace at all
  if (!isMounted(from)) throw new BerthError('NOT_FOUND', `move network namespace ${from}: not mounted`);
  mkdirSync(join(to, '..'), { recursive: true, mode: 0o700 });
  closeSync(openSync(to, 'a', 0o600));
  try {
    ops.mount(from, to, 'none', MS_BIND, '');
  } catch (err) {
    rmSync(to, { force: true });
    throw BerthError.wrap(err, `move network namespace ${from} to ${to}`);
  }
  try {
    ops.umount2(from, MNT_DETACH);
  } catch {
    /* not mounted any more: the bind above then failed, or someone removed it */
  }
  rmSync(from, { force: true });
}

/** Whether the netns addon calls are there (a pool needs them: no process per move). */
export function netnsNative(): boolean {
  return native() !== undefined;
}

/** The names (container ids, pool ids) that have a netns file under `dir` (default `<state>/netns`). */
export function listNetns(state: string, sub = 'netns'): string[] {
  const dir = join(state, sub);
  if (!existsSync(dir)) return [];
  return readdirSync(dir);
}

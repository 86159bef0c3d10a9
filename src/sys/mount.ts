import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { BerthError } from '../errors/index.js';

const run = promisify(execFile);

/** A mount as snapshotters describe it (the same shape as snapshot's Mount). */
export interface MountSpec {
  type: string;
  source: string;
  options: string[];
}

/**
 * Mount each description on `target`, in order, with mount(8) (Node has no mount(2)).
 * `bind` is a bind mount (`rbind` recursive); mount(8) remounts it read-only for `ro`.
 * On failure the mounts already made on target are undone.
 */
export async function mountAll(mounts: MountSpec[], target: string): Promise<void> {
  let done = 0;
  try {
    for (const m of mounts) {
      const args = m.type === 'bind' ? [] : ['-t', m.type];
      const opts = m.type === 'bind' && !m.options.some((o) => o === 'bind' || o === 'rbind') ? ['bind', ...m.options] : m.options;
      const { options, cwd } = compactOptions(opts);
      if (options.length) args.push('-o', options.join(','));
      await run('mount', [...args, '--', m.source, target], cwd ? { cwd } : {});
      done++;
    }
  } catch (err) {
    const e = BerthError.wrap(mountError(err), `mount ${mounts[done]?.type ?? ''} on ${JSON.stringify(target)}`);
    if (done > 0) {
      try {
        await unmountAll(target);
      } catch (cleanupErr) {
        e.cleanupErrors.push(cleanupErr);
      }
    }
    throw e;
  }
}

/** mount(2) copies at most one page of option data. */
const MAX_MOUNT_DATA = 4095;

/**
 * Fit an overlay's options into one page: when too long, the lowerdirs are rewritten relative
 * to their common directory and mount(8) runs there (the kernel resolves relative lowerdirs
 * against the mounting process's cwd), as containerd does for deep image chains.
 */
export function compactOptions(options: string[]): { options: string[]; cwd?: string } {
  if (options.join(',').length <= MAX_MOUNT_DATA) return { options };
  const i = options.findIndex((o) => o.startsWith('lowerdir='));
  if (i < 0) return { options };
  const lowers = options[i].slice('lowerdir='.length).split(':');
  if (!lowers.every((l) => l.startsWith('/'))) return { options };
  let common = lowers[0].slice(0, lowers[0].lastIndexOf('/'));
  for (const l of lowers) while (common && !l.startsWith(`${common}/`)) common = common.slice(0, common.lastIndexOf('/'));
  if (!common) return { options };
  const out = [...options];
  out[i] = `lowerdir=${lowers.map((l) => l.slice(common.length + 1)).join(':')}`;
  if (out.join(',').length > MAX_MOUNT_DATA) {
    throw new BerthError('RESOURCE_EXHAUSTED', `mount overlay: ${lowers.length} lower layers do not fit in one page of mount options`);
  }
  return { options: out, cwd: common };
}

/** Unmount everything mounted on or under `target` (umount -R), if anything is. */
export async function unmountAll(target: string): Promise<void> {
  if (!isMounted(target)) return;
  try {
    await run('umount', ['-R', '--', target]);
  } catch (err) {
    throw BerthError.wrap(mountError(err), `unmount ${JSON.stringify(target)}`);
  }
}

/** Whether something is mounted exactly on `path` in this mount namespace (proc(5) mountinfo). */
export function isMounted(path: string): boolean {
  const want = path.replace(/\/+$/, '') || '/';
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const point = line.split(' ')[4];
    if (point !== undefined && unescapeMountinfo(point) === want) return true;
  }
  return false;
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function mountError(err: unknown): unknown {
  const e = err as { stderr?: string; message?: string };
  if (typeof e?.stderr === 'string' && e.stderr.trim()) return new BerthError('INTERNAL', e.stderr.trim());
  return err;
}

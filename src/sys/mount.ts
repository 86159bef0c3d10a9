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
      if (opts.length) args.push('-o', opts.join(','));
      await run('mount', [...args, '--', m.source, target]);
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

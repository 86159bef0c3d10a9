import { BerthError } from '../../errors/index.js';
import { DEFAULT_PARENT, joinCg, normalize } from './_common.js';
import { DEFAULT_ROOT, hierarchiesUnder, layoutOf } from './layout.js';
import { ownCgroupIn, ownCgroups } from './mounts.js';

/**
 * The cgroup path for a container, following runc's cgroupfs driver: no `cgroupsPath` ->
 * "/berth/<id>"; an absolute one (podman's "/libpod_parent/libpod-<id>", containerd's
 * "/default/<id>") as is; a relative one below this process's own cgroup (/proc/self/cgroup).
 * The systemd driver's "slice:prefix:name" form is refused: this host has no systemd.
 */
export function resolveCgroupsPath(cgroupsPath: string | undefined, id: string, root: string = DEFAULT_ROOT): string {
  if (!cgroupsPath) {
    if (!id || id.includes('/') || id === '.' || id === '..') {
      throw new BerthError('INVALID_ARGUMENT', `container id ${JSON.stringify(id)}: not usable as a cgroup name`);
    }
    return `${DEFAULT_PARENT}/${id}`;
  }
  if (isSystemdPath(cgroupsPath)) {
    throw new BerthError(
      'NOT_IMPLEMENTED',
      `cgroupsPath ${JSON.stringify(cgroupsPath)}: systemd cgroup driver not supported: no systemd on this host (use a path like "/berth/${id}")`,
    );
  }
  if (cgroupsPath.startsWith('/')) return normalize(cgroupsPath);
  return joinCg(ownBase(root), cgroupsPath);
}

/** "system.slice:docker:abc": three colon-separated fields, no slash before the first colon. */
export function isSystemdPath(p: string): boolean {
  const parts = p.split(':');
  return parts.length === 3 && !parts[0].includes('/');
}

/**
 * The cgroup a relative path hangs from. On v2 that is this process's cgroup. On v1 each
 * hierarchy may differ (a process can sit in different places per controller); a resolved
 * path must be one string, so take the path most hierarchies agree on.
 */
function ownBase(root: string): string {
  const hs = hierarchiesUnder(root);
  const own = ownCgroups();
  if (layoutOf(hs, root) === 'v2') return own.get('') ?? '/';
  const votes = new Map<string, number>();
  for (const h of hs) {
    if (h.version !== 1) continue;
    const p = ownCgroupIn(h, own);
    votes.set(p, (votes.get(p) ?? 0) + 1);
  }
  let best = '/';
  let n = 0;
  for (const [p, c] of votes) {
    if (c > n) [best, n] = [p, c];
  }
  return best;
}

import { BerthError } from '../../errors/index.js';
import { mkdirOne, readCg, readPids, rmdirCg, rmdirIfEmpty, signalAll, sleepMs, writeRaw } from './_fs.js';
import { ownCgroupIn, type Hierarchy } from './mounts.js';

/** The parent berth puts containers under when the spec names no cgroupsPath. */
export const DEFAULT_PARENT = '/berth';

/** One hierarchy's directory for this cgroup. */
export interface Place {
  hierarchy: Hierarchy;
  /** The mountpoint the cgroup lives under. */
  base: string;
  /** The cgroup path below `base`, "/"-separated, starting with "/". */
  rel: string;
  /** base + rel. */
  dir: string;
}

/**
 * Where `path` lives in a hierarchy. An absolute path is taken from the hierarchy's root (as
 * mounted: a mount of a sub-tree shows that sub-tree's root at its mountpoint); a relative
 * one from this process's own cgroup in that hierarchy, as runc's cgroupfs driver does.
 */
export function placeOf(hierarchy: Hierarchy, path: string): Place {
  let abs = path.startsWith('/') ? path : joinCg(ownCgroupIn(hierarchy), path);
  const mr = hierarchy.mountRoot;
  if (mr !== '/' && (abs === mr || abs.startsWith(`${mr}/`))) abs = abs.slice(mr.length) || '/';
  const rel = normalize(abs);
  return { hierarchy, base: hierarchy.mountpoint, rel, dir: rel === '/' ? hierarchy.mountpoint : hierarchy.mountpoint + rel };
}

export function joinCg(a: string, b: string): string {
  return normalize(`${a}/${b}`);
}

/** "/a//b/./c/" -> "/a/b/c"; ".." is refused: a cgroup path must not climb out of its parent. */
export function normalize(p: string): string {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw new BerthError('INVALID_ARGUMENT', `cgroup path ${JSON.stringify(p)}: ".." is not allowed`);
  return `/${parts.join('/')}`;
}

/**
 * mkdir the cgroup and any missing parents; returns the directories it created, top-down.
 * A concurrent destroy may rmdir an empty shared parent between our mkdirs (ENOENT): retry.
 */
export function mkdirChain(place: Place): string[] {
  for (let attempt = 0; ; attempt++) {
    const created: string[] = [];
    try {
      if (place.rel === '/') return created;
      try {
        if (mkdirOne(place.dir)) created.push(place.dir);
        return created;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      let dir = place.base;
      for (const seg of place.rel.slice(1).split('/')) {
        dir = `${dir}/${seg}`;
        if (mkdirOne(dir)) created.push(dir);
      }
      return created;
    } catch (err) {
      for (const d of created.reverse()) rmdirIfEmpty(d);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw err;
    }
  }
}

/**
 * cgroup v2 only offers a controller's files in a cgroup when every ancestor lists it in
 * cgroup.subtree_control (cgroup-v2.rst, "Enabling and Disabling"). Enable what is missing,
 * from the mount's root down to the leaf's parent; never disable anything (others use them).
 */
export function enableControllers(base: string, rel: string, controllers: Iterable<string>, cgroup: string): void {
  const want = [...new Set(controllers)].filter((c) => c !== '');
  if (want.length === 0) return;
  const available = (readCg(`${base}/cgroup.controllers`) ?? '').split(' ');
  const missing = want.filter((c) => !available.includes(c));
  if (missing.length) {
    throw new BerthError(
      'NOT_IMPLEMENTED',
      `cgroup ${cgroup}: controller ${missing.join(', ')} not available in ${base} (cgroup.controllers: ${available.join(' ') || 'none'})`,
    );
  }
  const segs = rel.split('/').filter(Boolean);
  let dir = base;
  for (let i = 0; i < segs.length; i++) {
    const enabled = (readCg(`${dir}/cgroup.subtree_control`) ?? '').split(' ');
    const add = want.filter((c) => !enabled.includes(c));
    if (add.length) {
      try {
        writeRaw(`${dir}/cgroup.subtree_control`, add.map((c) => `+${c}`).join(' '));
      } catch (err) {
        throw BerthError.wrap(err, `cgroup ${cgroup}: enable ${add.join(', ')} in ${dir}/cgroup.subtree_control`);
      }
    }
    dir = `${dir}/${segs[i]}`;
  }
}

/**
 * SIGKILL everything in the cgroup until it is empty (a process may fork while we look),
 * within `budgetMs`. `kill` does one round (cgroup.kill on v2, one signal per pid otherwise).
 */
export function killUntilEmpty(procsFiles: string[], kill: (pids: number[]) => void, cgroup: string, budgetMs = 2000): void {
  const deadline = Date.now() + budgetMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
    const pids = mergePids(procsFiles);
    if (pids.length === 0) return;
    if (Date.now() >= deadline) {
      throw new BerthError('DEADLINE_EXCEEDED', `processes ${pids.join(', ')} of ${cgroup} still running after SIGKILL`);
    }
    kill(pids);
    sleepMs(delay);
  }
}

export function mergePids(procsFiles: string[]): number[] {
  const all = new Set<number>();
  for (const f of procsFiles) for (const p of readPids(f)) all.add(p);
  return [...all].sort((a, b) => a - b);
}

export function killPids(pids: number[]): void {
  signalAll(pids, 'SIGKILL');
}

/**
 * Remove the leaf in every place, then parents: those this manager created and the default
 * berth parent, each only if empty (another container may sit there). Errors are collected so
 * that one busy hierarchy does not leave the others behind.
 */
export function removeDirs(places: Place[], createdParents: string[], cgroup: string): void {
  const errors: unknown[] = [];
  for (const p of places) {
    if (p.rel === '/') continue;
    try {
      rmdirCg(p.dir);
    } catch (err) {
      errors.push(err);
    }
  }
  for (const d of [...createdParents].reverse()) rmdirIfEmpty(d);
  for (const p of places) {
    if (p.rel.startsWith(`${DEFAULT_PARENT}/`) && p.rel.split('/').length === 3) rmdirIfEmpty(p.base + DEFAULT_PARENT);
  }
  if (errors.length) {
    const e = BerthError.wrap(errors[0], `remove ${cgroup}`);
    e.cleanupErrors.push(...errors.slice(1));
    throw e;
  }
}

/** OCI memory.checkBeforeUpdate: refuse a new limit below what the cgroup uses now. */
export function checkUsage(usage: number, limit: number): void {
  if (limit > 0 && usage > limit) {
    throw new BerthError('FAILED_PRECONDITION', `memory limit ${limit} is below the current usage ${usage} (checkBeforeUpdate)`);
  }
}

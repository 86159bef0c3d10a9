import { readFileSync } from 'node:fs';

/** One mounted cgroup hierarchy. */
export interface Hierarchy {
  version: 1 | 2;
  /** Where it is mounted, e.g. "/sys/fs/cgroup/memory". */
  mountpoint: string;
  /** The cgroup the mount shows at its mountpoint (mountinfo field 4); "/" outside a cgroupns. */
  mountRoot: string;
  /** v1: the controllers bound to it ("cpu", "cpuacct", "name=systemd"); v2: []. */
  controllers: string[];
}

let cached: Hierarchy[] | undefined;

/**
 * Every cgroup mount of this process, read once per process: /proc/self/mountinfo is large
 * on busy hosts and container starts are measured in milliseconds (proc(5), "mountinfo").
 */
export function cgroupMounts(): Hierarchy[] {
  if (!cached) cached = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
  return cached;
}

export function parseCgroupMounts(mountinfo: string): Hierarchy[] {
  const out: Hierarchy[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const fields = line.slice(0, sep).split(' ');
    const mountRoot = unescape(fields[3]);
    const mountpoint = unescape(fields[4]);
    if (fstype === 'cgroup2') {
      out.push({ version: 2, mountpoint, mountRoot, controllers: [] });
      continue;
    }
    const controllers = superOpts.split(',').filter((o) => o !== 'rw' && o !== 'ro' && (o.startsWith('name=') || !o.includes('=')) && !NOT_CONTROLLERS.has(o));
    out.push({ version: 1, mountpoint, mountRoot, controllers });
  }
  return out;
}

/** Mount options of cgroup v1 that are not controller names (kernel/cgroup/cgroup-v1.c). */
const NOT_CONTROLLERS = new Set(['noprefix', 'clone_children', 'cpuset_v2_mode', 'none', 'xattr', 'nsdelegate', 'favordynmods']);

/** mountinfo escapes space, tab, newline and backslash as octal (\040). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

let ownCached: Map<string, string> | undefined;

/**
 * This process's own cgroups from /proc/self/cgroup (cgroups(7)): hierarchy key -> path. The key
 * is the controller list of a v1 line ("cpu,cpuacct", "name=systemd") and "" for the v2 line.
 */
export function ownCgroups(): Map<string, string> {
  if (!ownCached) ownCached = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
  return ownCached;
}

export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    out.set(line.slice(a + 1, b), line.slice(b + 1));
  }
  return out;
}

/** The own cgroup of this process in a hierarchy (by its controllers), "/" if unknown. */
export function ownCgroupIn(h: Hierarchy, own: Map<string, string> = ownCgroups()): string {
  if (h.version === 2) return own.get('') ?? '/';
  for (const [key, path] of own) {
    const names = key.split(',');
    if (h.controllers.some((c) => names.includes(c))) return path;
  }
  return '/';
}

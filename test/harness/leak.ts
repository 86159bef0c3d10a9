/**
 * Leak check: what a test left behind on the machine, scoped to the test's own names and
 * dirs (a Scope), never global, because other tests run on this kernel at the same time.
 *
 *   const scope = new Scope('runtime-lifecycle');
 *   leakCheckFile(scope);               // before/after hooks for the whole file
 *
 * Looked at: mounts (/proc/self/mountinfo: mount point, root or source in the scope; nsfs
 * mounts of a scope netns), cgroup dirs (every hierarchy under /sys/fs/cgroup), processes
 * (cmdline, cwd or root into the scope, or in a scope cgroup), named netns (/run/netns),
 * network links (veths, bridges), iptables rules (iptables-save lines that mention the
 * scope), and temp and state paths (entries of tmpdir and /run whose name has the scope id,
 * plus the scope dir's own leftovers).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Scope, unescapeMountinfo } from './scope.js';

export interface LeakSnapshot {
  mounts: string[];
  cgroups: string[];
  processes: string[];
  netns: string[];
  links: string[];
  iptables: string[];
  paths: string[];
}

export type LeakKind = keyof LeakSnapshot;

const CGROUP_ROOT = '/sys/fs/cgroup';

function markers(scope: Scope): string[] {
  return [scope.id, scope.dir, ...scope.matches].filter(Boolean);
}

function mentions(s: string, marks: string[]): boolean {
  return marks.some((m) => s.includes(m));
}

function readOr(path: string, fallback = ''): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function mounts(marks: string[]): string[] {
  const out: string[] = [];
  for (const line of readOr('/proc/self/mountinfo').split('\n')) {
    const f = line.split(' ');
    if (f.length < 10) continue;
    const dash = f.indexOf('-', 6);
    const mp = unescapeMountinfo(f[4]);
    const root = unescapeMountinfo(f[3]);
    const source = dash > 0 ? unescapeMountinfo(f[dash + 2] ?? '') : '';
    const fstype = dash > 0 ? f[dash + 1] : '';
    if (mentions(mp, marks) || mentions(root, marks) || mentions(source, marks)) out.push(`${mp} (${fstype} ${source} root=${root})`);
  }
  return out;
}

function cgroups(scope: Scope): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const name of entries) {
      const p = join(dir, name);
      if (mentions(name, [scope.id, ...scope.matches])) out.push(p);
      else if (depth < 6) walk(p, depth + 1);
    }
  };
  let hierarchies: string[] = [];
  try {
    hierarchies = readdirSync(CGROUP_ROOT).map((h) => join(CGROUP_ROOT, h));
  } catch {
    /* no cgroupfs */
  }
  // A pure cgroup v2 host mounts the hierarchy at /sys/fs/cgroup itself.
  if (existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) hierarchies = [CGROUP_ROOT];
  for (const h of hierarchies) {
    try {
      if (statSync(h).isDirectory()) walk(h, 0);
    } catch {
      /* vanished */
    }
  }
  return out;
}

function processes(scope: Scope, marks: string[]): string[] {
  const out: string[] = [];
  const self = String(process.pid);
  const cgMarks = [scope.id, ...scope.matches];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || pid === self) continue;
    const cmdline = readOr(`/proc/${pid}/cmdline`).replace(/\0/g, ' ').trim();
    let why = '';
    if (mentions(cmdline, marks)) why = 'cmdline';
    else {
      for (const link of ['cwd', 'root', 'exe']) {
        try {
          if (mentions(readlinkSync(`/proc/${pid}/${link}`), marks)) {
            why = link;
            break;
          }
        } catch {
          /* gone, or a kernel thread */
        }
      }
      if (!why && mentions(readOr(`/proc/${pid}/cgroup`), cgMarks)) why = 'cgroup';
    }
    if (!why) continue;
    const stat = readOr(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    out.push(`pid ${pid} [${state}] (${why}): ${cmdline || readOr(`/proc/${pid}/comm`).trim()}`);
  }
  return out;
}

function netns(marks: string[]): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => mentions(n, marks)).map((n) => `/run/netns/${n}`);
  } catch {
    return [];
  }
}

function links(scope: Scope): string[] {
  try {
    const out = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const marks = [scope.id, ...scope.matches];
    // a link named by the scope, or enslaved to a scope bridge (CNI's veth<random> host ends)
    return out
      .split('\n')
      .filter((l) => {
        const name = l.split(':')[1]?.trim().split('@')[0] ?? '';
        const master = / master (\S+)/.exec(l)?.[1] ?? '';
        return (name && mentions(name, marks)) || (master && marks.includes(master));
      })
      .map((l) => {
        const name = l.split(':')[1]?.trim().split('@')[0] ?? '';
        const master = / master (\S+)/.exec(l)?.[1];
        return master && !mentions(name, marks) ? `${name} (master ${master})` : name;
      });
  } catch {
    return [];
  }
}

function iptables(marks: string[]): string[] {
  const out: string[] = [];
  for (const cmd of ['iptables-save', 'ip6tables-save']) {
    try {
      const text = execFileSync(cmd, [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      let table = '';
      for (const line of text.split('\n')) {
        if (line.startsWith('*')) table = line.slice(1);
        else if (!line.startsWith('#') && mentions(line, marks)) out.push(`${cmd} ${table}: ${line}`);
      }
    } catch {
      /* not installed */
    }
  }
  return out;
}

function paths(scope: Scope): string[] {
  const out: string[] = [];
  for (const dir of [tmpdir(), '/run', '/var/run', '/dev/shm']) {
    try {
      for (const name of readdirSync(dir)) if (name.includes(scope.id)) out.push(join(dir, name));
    } catch {
      /* missing */
    }
  }
  return [...new Set(out)];
}

/** What the scope has on the machine right now. */
export function leakSnapshot(scope: Scope): LeakSnapshot {
  const marks = markers(scope);
  return {
    mounts: mounts(marks),
    cgroups: cgroups(scope),
    processes: processes(scope, marks),
    netns: netns(marks),
    links: links(scope),
    iptables: iptables(marks),
    paths: paths(scope),
  };
}

/** Entries of `after` that `before` did not have, per kind (processes compared by pid). */
export function leaksBetween(before: LeakSnapshot, after: LeakSnapshot): Partial<LeakSnapshot> {
  const found: Partial<LeakSnapshot> = {};
  const key = (kind: LeakKind, s: string): string => (kind === 'processes' ? s.split(' ')[1] : s);
  for (const kind of Object.keys(after) as LeakKind[]) {
    const had = new Set(before[kind].map((s) => key(kind, s)));
    const added = after[kind].filter((s) => !had.has(key(kind, s)));
    if (added.length) found[kind] = added;
  }
  return found;
}

export function formatLeaks(leaks: Partial<LeakSnapshot>, scope: Scope): string {
  const lines = [`leaks of scope ${scope.name} (${scope.id}, ${scope.dir}):`];
  for (const [kind, items] of Object.entries(leaks)) for (const i of items as string[]) lines.push(`  ${kind}: ${i}`);
  return lines.join('\n');
}

/** Throws an Error listing every leak (what `after` has beyond `before`). */
export function assertNoLeaks(before: LeakSnapshot, after: LeakSnapshot, scope: Scope): void {
  const leaks = leaksBetween(before, after);
  if (Object.keys(leaks).length) throw new Error(formatLeaks(leaks, scope));
}

/**
 * Snapshots after a settle: processes being reaped and cgroups being removed take a moment,
 * so the check retries for up to `settleMs` before it reports.
 */
export async function settledLeaks(scope: Scope, before: LeakSnapshot, settleMs = 3000): Promise<Partial<LeakSnapshot>> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const leaks = leaksBetween(before, leakSnapshot(scope));
    // The scope dir predates the first snapshot; it must be gone once the cleanups ran.
    if (existsSync(scope.dir)) (leaks.paths ??= []).push(`${scope.dir} (the scope dir itself)`);
    if (!Object.keys(leaks).length || Date.now() >= deadline) return leaks;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Runs `fn` between two snapshots: the scope's cleanups run after `fn` (pass or fail), then
 * anything left is a leak. The original error of `fn` wins; leaks are attached to it.
 */
export async function withLeakCheck<T>(scope: Scope, fn: () => Promise<T>): Promise<T> {
  const before = leakSnapshot(scope);
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    const errors = await scope.cleanup();
    const leaks = await settledLeaks(scope, before);
    if (errors.length || Object.keys(leaks).length)
      (err as Error).message += `\n${errors.map((e) => e.message).join('\n')}\n${formatLeaks(leaks, scope)}`;
    throw err;
  }
  await finish(scope, before);
  return result;
}

async function finish(scope: Scope, before: LeakSnapshot): Promise<void> {
  const errors = await scope.cleanup();
  const leaks = await settledLeaks(scope, before);
  const parts: string[] = errors.map((e) => e.message);
  if (Object.keys(leaks).length) parts.push(formatLeaks(leaks, scope));
  if (parts.length) throw new Error(parts.join('\n'));
}

/**
 * Wraps a whole test file: a snapshot before the first test; after the last one, the scope's
 * cleanups (registered with scope.defer, last first) and then the leak assertion, which
 * fails the file. Call it once at the top level of the file.
 */
export function leakCheckFile(scope: Scope, opts: { settleMs?: number } = {}): void {
  let snap: LeakSnapshot;
  before(() => {
    snap = leakSnapshot(scope);
    // The scope dir itself exists from the start; everything inside it is removed with it.
  });
  after(async () => {
    const errors = await scope.cleanup();
    const leaks = await settledLeaks(scope, snap, opts.settleMs);
    const parts: string[] = errors.map((e) => e.message);
    if (Object.keys(leaks).length) parts.push(formatLeaks(leaks, scope));
    if (parts.length) throw new Error(parts.join('\n'));
  });
}

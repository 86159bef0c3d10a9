/**
 * Everything the bench starts or creates registers its undo here; undos run in reverse order
 * at the end, on failure, and on SIGINT/SIGTERM. A failing undo is reported and the rest still
 * run. Only what the bench itself created is touched: temp dirs from mkdtemp, mounts below
 * them, processes by their own pid, cgroups named with the run's random suffix.
 */
import { readFileSync, rmSync, rmdirSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Scope } from '../../test/harness/scope.js';
import { run, sleepSyncMs, stopChildren } from './proc.js';

type Undo = { what: string; fn: () => Promise<void> | void };

const undos: Undo[] = [];
let running: Promise<void> | undefined;

let scope: Scope | undefined;

/**
 * The test harness's scope for this run: the peers' set-up (registry, podman, containerd) is
 * shared with the interop tests (test/harness/peers.ts) and registers its cleanups there. The
 * scope's cleanup runs as one undo of this stack.
 */
export function benchScope(): Scope {
  if (!scope) {
    const s = new Scope('bench');
    scope = s;
    defer(`harness scope ${s.id}`, async () => {
      const errors = await s.cleanup();
      if (errors.length) throw new Error(errors.map((e) => e.message).join('; '));
    });
  }
  return scope;
}

/** The unique prefix of every name this bench run creates (ids, cgroups, namespaces). */
export function runTag(): string {
  return benchScope().id;
}

export function defer(what: string, fn: () => Promise<void> | void): () => Promise<void> {
  const u: Undo = { what, fn };
  undos.push(u);
  // Run one undo early (and only once), e.g. at the end of an iteration.
  return async () => {
    const i = undos.indexOf(u);
    if (i < 0) return;
    undos.splice(i, 1);
    await runUndo(u);
  };
}

async function runUndo(u: Undo): Promise<void> {
  try {
    await u.fn();
  } catch (err) {
    process.stderr.write(`bench: cleanup "${u.what}" failed: ${(err as Error).message}\n`);
  }
}

export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (undos.length) await runUndo(undos.pop()!);
  })();
  return running;
}

let aborting = false;

/** Throws once a signal asked the run to stop, so that suites start nothing new. */
export function checkAborted(): void {
  if (aborting) throw new Error('interrupted');
}

export function installSignalHandlers(): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      aborting = true;
      process.stderr.write(`\nbench: ${sig}: stopping what runs, cleaning up...\n`);
      void stopChildren()
        .then(() => cleanupAll())
        .finally(() => process.exit(130));
    });
  }
}

/** A temp dir that is removed (after unmounting anything below it) at cleanup. */
export function tempDir(label: string): { path: string; remove: () => Promise<void> } {
  const path = benchScope().mkdtemp(label);
  const remove = defer(`remove ${path}`, () => removeTree(path));
  return { path, remove };
}

/** Mount points at or below `dir`, deepest first, from this mount namespace's mountinfo. */
export function mountsBelow(dir: string): string[] {
  const info = readFileSync('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const line of info.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    // mountinfo escapes space, tab, newline and backslash as octal (proc(5)).
    const mp = f[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mp === dir || mp.startsWith(dir + '/')) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}

export async function unmountBelow(dir: string): Promise<void> {
  // A path can be stacked several times (podman makes its graphroot a private bind mount
  // of itself), so repeat until nothing is left.
  for (let round = 0; round < 5; round++) {
    const mps = mountsBelow(dir);
    if (mps.length === 0) return;
    for (const mp of mps) await run(['umount', '-l', mp]);
  }
  const left = mountsBelow(dir);
  if (left.length) throw new Error(`mounts left below ${dir}: ${left.join(', ')}`);
}

export async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  await unmountBelow(dir);
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Remove cgroup directories named with this run's tag, in every hierarchy (v1 and v2). */
export function removeTaggedCgroups(): string[] {
  const left: string[] = [];
  if (!scope) return left;
  const tag = scope.id;
  const base = '/sys/fs/cgroup';
  let hierarchies: string[] = [];
  try {
    hierarchies = readdirSync(base).map((h) => join(base, h));
  } catch {
    return left;
  }
  const walk = (dir: string, depth: number): void => {
    if (depth > 3) return;
    let entries: string[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      if (e.includes(tag)) {
        rmCgroupTree(p, left);
      } else walk(p, depth + 1);
    }
  };
  for (const h of hierarchies) walk(h, 0);
  return left;
}

function rmCgroupTree(dir: string, left: string[]): void {
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmCgroupTree(join(dir, e.name), left);
    rmdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    // EBUSY: processes still in it. The cgroup carries this run's tag, so they are this run's
    // containers (e.g. an init left waiting for `start` by a create that was interrupted).
    if (code === 'EBUSY' && killProcsIn(dir)) {
      try {
        rmdirSync(dir);
        return;
      } catch {
        // fall through: reported below
      }
    }
    left.push(dir);
  }
}

/** SIGKILL every process in a cgroup, then wait (up to 2 s) for it to empty; true if it did. */
function killProcsIn(dir: string): boolean {
  const procs = (): number[] => {
    try {
      return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  for (const pid of procs()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 100; i++) {
    if (procs().length === 0) return true;
    sleepSyncMs(20);
  }
  return false;
}

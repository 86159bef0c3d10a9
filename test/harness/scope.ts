/**
 * A scope is what one test file owns: a unique id (container ids, cgroup paths, netns and
 * veth names start with it), one temp dir under which everything else is created, and the
 * cleanups to run at the end. The leak check (leak.ts) looks only at things that carry the
 * scope's id or live under its dir, because other engineers run tests on this kernel at the
 * same time.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Cleanup = () => void | Promise<void>;

export class Scope {
  /** Short unique id, e.g. `bt3fa9c1`: a prefix for names (fits in a 15-char veth name with room). */
  readonly id: string;
  /** The scope's own temp dir (`/tmp/berth-<id>-<name>-XXXXXX`). */
  readonly dir: string;
  /** Extra strings that mark something as this scope's (bridge names, subnets, veth names...). */
  readonly matches: string[] = [];
  readonly name: string;
  #cleanups: { label: string; fn: Cleanup }[] = [];
  #counter = 0;
  #closed = false;

  constructor(name: string) {
    this.name = name.replace(/[^a-zA-Z0-9_.-]/g, '-');
    this.id = `bt${randomBytes(3).toString('hex')}`;
    this.dir = mkdtempSync(join(tmpdir(), `berth-${this.id}-${this.name}-`));
    this.defer('remove scope dir', () => removeTree(this.dir));
  }

  /** A new unique name inside the scope: `<id>-<tag><n>` (container ids, cgroup leaves...). */
  uid(tag = 'c'): string {
    this.#counter += 1;
    return `${this.id}-${tag}${this.#counter}${randomBytes(2).toString('hex')}`;
  }

  /** A fresh subdirectory of the scope dir. */
  mkdtemp(tag = 'd'): string {
    this.assertOpen(`mkdtemp ${tag}`);
    return mkdtempSync(join(this.dir, `${tag}-`));
  }

  /** Registers a cleanup; cleanups run in reverse order of registration (see cleanup()). */
  defer(label: string, fn: Cleanup): void {
    this.#cleanups.push({ label, fn });
  }

  /**
   * True once cleanup() started: helpers refuse to make new things in a closed scope (an
   * `after()` hook that runs after the file's leak check would otherwise leave them behind;
   * use scope.defer for cleanups instead).
   */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws if the scope is closed (see `closed`). */
  assertOpen(action: string): void {
    if (this.#closed) throw new Error(`${action}: scope ${this.name} is already cleaned up (use scope.defer, not after(), for cleanups)`);
  }

  /** Runs every registered cleanup, last first; returns the failures instead of stopping. */
  async cleanup(): Promise<Error[]> {
    this.#closed = true;
    const errors: Error[] = [];
    while (this.#cleanups.length) {
      const { label, fn } = this.#cleanups.pop()!;
      try {
        await fn();
      } catch (err) {
        errors.push(new Error(`cleanup "${label}": ${(err as Error).message}`, { cause: err }));
      }
    }
    return errors;
  }
}

/** Mount points (from /proc/self/mountinfo, octal escapes decoded) at or under `dir`. */
export function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const p = unescapeMountinfo(mp);
    if (p === dir || p.startsWith(dir + '/')) out.push(p);
  }
  return out;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo (proc(5)). */
export function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * rm -rf that refuses to run while anything is mounted under the dir: removing through a
 * leaked bind mount would delete the mount source's files.
 */
export function removeTree(dir: string): void {
  const mounted = mountsUnder(dir);
  if (mounted.length) throw new Error(`remove "${dir}": still mounted: ${mounted.join(', ')}`);
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

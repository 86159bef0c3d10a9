/**
 * The C test fixtures (test/fixtures/*.c), compiled on first use into test/fixtures/build/
 * (gitignored) and rebuilt when the source is newer. Never committed as binaries.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest ancestor of this module that holds package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repoRoot: no package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

export type FixtureName = 'checker' | 'console-recv' | 'seccomp-agent';

const flags: Record<FixtureName, string[]> = {
  // Static: it runs inside a busybox rootfs that has no libc.
  checker: ['-static', '-O2', '-Wall'],
  'console-recv': ['-O2', '-Wall'],
  'seccomp-agent': ['-O2', '-Wall'],
};

/** Path of the built fixture, compiling it with gcc if missing or stale. */
export function fixture(name: FixtureName): string {
  const root = repoRoot();
  const src = join(root, 'test/fixtures', `${name}.c`);
  const out = join(root, 'test/fixtures/build', name);
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) return out;
  mkdirSync(dirname(out), { recursive: true });
  // Build beside and rename: concurrent test processes never see a half-written binary.
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    execFileSync('gcc', [...flags[name], '-o', tmp, src], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`build fixture "${name}": gcc failed: ${stderr || (err as Error).message}`);
  }
  renameSync(tmp, out);
  return out;
}

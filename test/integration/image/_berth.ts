import { join } from 'node:path';
import { exec, repoRoot, type ExecOptions, type ExecResult } from '../../harness/index.js';

export const BERTH = join(repoRoot(), 'bin/berth');

/** Runs `bin/berth --root ROOT ...` and returns its result (never throws on exit status). */
export function berth(root: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return exec(BERTH, ['--root', root, ...args], { timeoutMs: 120_000, ...opts });
}

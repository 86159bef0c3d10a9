import { formatError } from '../../errors/index.js';
import type { CliContext } from './context.js';

/** Apply an operation to each named container, docker-style: print the ref on success, errors on stderr, exit 1 if any failed. */
export async function forEachContainer(ctx: CliContext, refs: string[], setExit: (code: number) => void, fn: (ref: string) => Promise<unknown> | unknown): Promise<void> {
  let failed = false;
  for (const r of refs) {
    try {
      await fn(r);
      ctx.out(`${r}\n`);
    } catch (err) {
      ctx.err(`berth: ${formatError(err)}\n`);
      failed = true;
    }
  }
  if (failed) setExit(1);
}

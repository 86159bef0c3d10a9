import { constants } from 'node:os';
import { createContainer, type CreateOptions } from './create.js';
import { startContainer } from './start.js';
import { deleteContainer } from './delete.js';
import type { RuntimeContext } from './context.js';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  /** Keep the container's state after it exits (runc `--keep`). */
  keep?: boolean;
}

/** Signals a foreground `run` passes on to the container's init. */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/**
 * `run`: create + start, and in the foreground wait for the init and delete the container.
 * Returns the exit status to exit with (128+N when the init died of signal N).
 */
export async function runContainer(rt: RuntimeContext, opts: RunOptions): Promise<number> {
  const created = await createContainer(rt, { ...opts, foreground: !opts.detach });
  const pid = created.record.pid;
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, constants.signals[sig]);
    } catch {
      /* gone */
    }
  };
  if (!opts.detach) for (const s of FORWARDED) process.on(s, forward);
  try {
    try {
      await startContainer(rt, opts.id);
    } catch (err) {
      await deleteContainer(rt, opts.id, true).catch(() => {});
      throw err;
    }
    if (opts.detach || !created.wait) return 0;
    const status = await created.wait();
    if (!opts.keep) await deleteContainer(rt, opts.id, true);
    return status;
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}

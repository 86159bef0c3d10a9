import { BerthError } from '../../errors/index.js';

/** What every berth command gets: where state lives and how to print. */
export interface CliContext {
  /** Persistent state: images, content, snapshots, metadata. `--root` or BERTH_ROOT. */
  root: string;
  /** Per-boot state: running containers, sockets, locks. `--state` or BERTH_STATE. */
  state: string;
  debug: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
  /** True when stdout is a terminal (progress bars, tables) rather than a pipe (plain lines). */
  tty: boolean;
}

export function usageError(message: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', message);
}

import type { RuntimeContext } from '../../runtime/index.js';
import type { FlagSpec, Parsed } from './args.js';

export interface RuntimeCli {
  rt: RuntimeContext;
  /** Write to stdout without making Node take over fd 1 (it would set O_NONBLOCK on a pipe the container shares). */
  out: (text: string) => void;
}

/** One runc-compatible command: its flags and what it does. Returns the exit status. */
export interface RuntimeCommand {
  name: string;
  usage: string;
  flags: FlagSpec[];
  stopAtPositional?: boolean;
  run(cli: RuntimeCli, args: Parsed): Promise<number> | number;
}

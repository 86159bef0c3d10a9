import { Engine } from '../../engine/index.js';
import type { CliContext } from './context.js';

let cached: Engine | undefined;

/** The engine for this CLI run, built from --root/--state (BERTH_ROOT/BERTH_STATE). */
export function engineFor(ctx: CliContext): Engine {
  return (cached ??= new Engine({
    root: ctx.root,
    state: ctx.state,
    ...(process.argv[1] ? { selfCommand: [process.execPath, process.argv[1]] } : {}),
    warn: (m) => ctx.err(`WARNING: ${m}\n`) }));
}

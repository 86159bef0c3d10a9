import type { Command } from 'commander';
import { containerChanges } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor } from './engine.js';

export const registerDiff: RegisterCommand = (program: Command, ctx) => {
  program
    .command('diff')
    .description("inspect changes to files or directories on a container's filesystem (A added, C changed, D deleted)")
    .argument('<container>', 'name or id')
    .action(async (ref: string) => {
      const engine = engineFor(ctx);
      for (const c of await containerChanges(engine, ref)) ctx.out(`${c.kind} ${c.path}\n`);
    });
};

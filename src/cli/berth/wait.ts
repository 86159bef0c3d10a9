import type { Command } from 'commander';
import { waitContainer } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor } from './engine.js';

export const registerWait: RegisterCommand = (program: Command, ctx) => {
  program
    .command('wait')
    .description('block until one or more containers stop, then print their exit codes')
    .argument('<container...>', 'names or ids')
    .action(async (refs: string[]) => {
      const engine = engineFor(ctx);
      for (const r of refs) ctx.out(`${await waitContainer(engine, r)}\n`);
    });
};

import type { Command } from 'commander';
import type { RegisterCommand } from './commands.js';
import { engineFor } from './engine.js';
import { addRunFlags, type RunFlags } from './run-flags.js';
import { createWithPull } from './run.js';

export const registerCreate: RegisterCommand = (program: Command, ctx) => {
  addRunFlags(
    program
      .command('create')
      .description('create a container (start it with `berth start`)')
      .helpOption('--help', 'display help for command')
      .argument('<image>', 'image reference')
      .argument('[command...]', 'command and arguments')
      .passThroughOptions(),
  ).action(async (image: string, command: string[], f: RunFlags) => {
    const rec = await createWithPull(ctx, engineFor(ctx), image, command, f);
    ctx.out(`${rec.id}\n`);
  });
};

import type { Command } from 'commander';
import type { RegisterCommand } from './commands.js';
import { engineFor, networkFor } from './engine.js';

export const registerNetworkPrune: RegisterCommand = (net: Command, ctx) => {
  net
    .command('prune')
    .description('remove all networks no container uses (and what dead containers left)')
    .option('-f, --force', 'do not prompt for confirmation (berth never prompts)')
    .action(async () => {
      engineFor(ctx);
      const removed = await networkFor(ctx).prune();
      if (removed.length) ctx.out(`Deleted Networks:\n${removed.map((n) => `${n}\n`).join('')}`);
    });
};

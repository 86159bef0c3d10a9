import type { Command } from 'commander';
import { formatError } from '../../errors/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor, networkFor } from './engine.js';

export const registerNetworkRm: RegisterCommand = (net: Command, ctx, setExit) => {
  net
    .command('rm')
    .alias('remove')
    .description('remove one or more networks (none may have containers attached)')
    .argument('<network...>', 'names or ids')
    .action(async (refs: string[]) => {
      engineFor(ctx);
      const nm = networkFor(ctx);
      for (const r of refs) {
        try {
          await nm.remove(r);
          ctx.out(`${r}\n`);
        } catch (err) {
          ctx.err(`berth: ${formatError(err)}\n`);
          setExit(1);
        }
      }
    });
};

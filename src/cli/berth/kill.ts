import type { Command } from 'commander';
import { killContainer } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { forEachContainer } from './each.js';
import { engineFor } from './engine.js';

export const registerKill: RegisterCommand = (program: Command, ctx, setExit) => {
  program
    .command('kill')
    .description('send a signal (default KILL) to one or more running containers')
    .argument('<container...>', 'names or ids')
    .option('-s, --signal <signal>', 'signal to send', 'KILL')
    .action(async (refs: string[], o: { signal: string }) => {
      const engine = engineFor(ctx);
      await forEachContainer(ctx, refs, setExit, (r) => killContainer(engine, r, o.signal));
    });
};

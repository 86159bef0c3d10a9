import type { Command } from 'commander';
import { restartContainer } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { forEachContainer } from './each.js';
import { engineFor } from './engine.js';

export const registerRestart: RegisterCommand = (program: Command, ctx, setExit) => {
  program
    .command('restart')
    .description('restart one or more containers')
    .argument('<container...>', 'names or ids')
    .option('-t, --time <seconds>', 'seconds to wait before killing the container')
    .action(async (refs: string[], o: { time?: string }) => {
      const engine = engineFor(ctx);
      await forEachContainer(ctx, refs, setExit, (r) => restartContainer(engine, r, o.time !== undefined ? { timeout: Number(o.time) } : {}));
    });
};

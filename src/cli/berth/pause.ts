import type { Command } from 'commander';
import { pauseContainer, unpauseContainer } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { forEachContainer } from './each.js';
import { engineFor } from './engine.js';

export const registerPause: RegisterCommand = (program: Command, ctx, setExit) => {
  program
    .command('pause')
    .description('pause all processes within one or more containers')
    .argument('<container...>', 'names or ids')
    .action((refs: string[]) => forEachContainer(ctx, refs, setExit, (r) => pauseContainer(engineFor(ctx), r)));
  program
    .command('unpause')
    .description('unpause all processes within one or more containers')
    .argument('<container...>', 'names or ids')
    .action((refs: string[]) => forEachContainer(ctx, refs, setExit, (r) => unpauseContainer(engineFor(ctx), r)));
};

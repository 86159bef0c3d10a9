import type { Command } from 'commander';
import { renameContainer } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor } from './engine.js';

export const registerRename: RegisterCommand = (program: Command, ctx) => {
  program
    .command('rename')
    .description('rename a container')
    .argument('<container>', 'name or id')
    .argument('<new-name>', 'new name')
    .action((ref: string, name: string) => renameContainer(engineFor(ctx), ref, name));
};

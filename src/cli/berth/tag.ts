import type { Command } from 'commander';
import { tag } from '../../image/index.js';
import type { RegisterCommand } from './commands.js';
import { imageDeps } from './image-deps.js';

export const registerTag: RegisterCommand = (program: Command, ctx) => {
  program
    .command('tag')
    .description('give an image another name')
    .argument('<source>', 'image name or id')
    .argument('<target>', 'new name')
    .action(async (source: string, target: string) => {
      await tag(imageDeps(ctx), source, target);
    });
};

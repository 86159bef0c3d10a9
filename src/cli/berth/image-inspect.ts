import type { Command } from 'commander';
import { inspectImage } from '../../image/index.js';
import type { RegisterCommand } from './commands.js';
import { imageDeps } from './image-deps.js';
import { imageGroup } from './image-group.js';

export const registerImageInspect: RegisterCommand = (program: Command, ctx) => {
  imageGroup(program)
    .command('inspect')
    .description('show details of one or more images (JSON)')
    .argument('<image...>', 'image names or ids')
    .action(async (images: string[]) => {
      const deps = imageDeps(ctx);
      const out = [];
      for (const i of images) out.push(await inspectImage(deps, i));
      ctx.out(JSON.stringify(out, null, 4) + '\n');
    });
};

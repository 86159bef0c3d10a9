import type { Command } from 'commander';
import { pruneImages } from '../../image/index.js';
import type { RegisterCommand } from './commands.js';
import { imageDeps } from './image-deps.js';
import { imageGroup } from './image-group.js';
import { humanSize } from './pull-progress.js';

export const registerImagePrune: RegisterCommand = (program: Command, ctx) => {
  imageGroup(program)
    .command('prune')
    .description('remove unused content: blobs and snapshots no image needs; with -a, every image no container uses')
    .option('-a, --all', 'also remove images no container uses')
    .option('-f, --force', 'do not ask (berth never asks)')
    .action(async (o: { all?: boolean }) => {
      const r = await pruneImages(imageDeps(ctx), { all: o.all });
      for (const n of r.untagged) ctx.out(`untagged: ${n}\n`);
      for (const b of r.blobs) ctx.out(`deleted: ${b}\n`);
      ctx.out(`Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
    });
};

import type { Command } from 'commander';
import { removeImage } from '../../image/index.js';
import type { RegisterCommand } from './commands.js';
import { imageDeps } from './image-deps.js';
import { imageGroup } from './image-group.js';

export const registerRmi: RegisterCommand = (program: Command, ctx, setExit) => {
  const add = (cmd: Command) =>
    cmd
      .description('remove images')
      .argument('<image...>', 'image names or ids')
      .option('-f, --force', 'remove even when in use or named several times')
      .action(async (images: string[], o: { force?: boolean }) => {
        const deps = imageDeps(ctx);
        let failed = false;
        for (const i of images) {
          try {
            const r = await removeImage(deps, i, { force: o.force });
            for (const u of r.untagged) ctx.out(`Untagged: ${u}\n`);
            for (const d of r.deleted) ctx.out(`Deleted: ${d}\n`);
          } catch (err) {
            if (images.length === 1) throw err;
            failed = true;
            ctx.err(`berth: ${(err as Error).message}\n`);
          }
        }
        if (failed) setExit(1);
      });
  add(program.command('rmi'));
  add(imageGroup(program).command('rm'));
};

import type { Command } from 'commander';
import { commitContainer } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor } from './engine.js';

export const registerCommit: RegisterCommand = (program: Command, ctx) => {
  program
    .command('commit')
    .description("create a new image from a container's changes")
    .argument('<container>', 'name or id')
    .argument('[repository[:tag]]', 'name of the new image')
    .option('-m, --message <text>', 'commit message')
    .option('-a, --author <text>', 'author')
    .option('-p, --pause <bool>', 'pause the container while committing', 'true')
    .action(async (ref: string, reference: string | undefined, o: { message?: string; author?: string; pause: string }) => {
      const engine = engineFor(ctx);
      const r = await commitContainer(engine, ref, {
        ...(reference ? { reference } : {}),
        ...(o.message ? { message: o.message } : {}),
        ...(o.author ? { author: o.author } : {}),
        pause: o.pause !== 'false',
      });
      ctx.out(`${r.id}\n`);
    });
};

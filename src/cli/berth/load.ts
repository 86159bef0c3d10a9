import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { familiarString, loadImages, parseReference } from '../../image/index.js';
import type { RegisterCommand } from './commands.js';
import { usageError } from './context.js';
import { imageDeps } from './image-deps.js';
import { imageGroup } from './image-group.js';

export const registerLoad: RegisterCommand = (program: Command, ctx) => {
  const add = (cmd: Command) =>
    cmd
      .description('load images from a tar archive (docker-archive or OCI image layout)')
      .option('-i, --input <file>', 'read from a file instead of stdin')
      .option('-q, --quiet', 'print nothing')
      .action(async (o: { input?: string; quiet?: boolean }) => {
        if (!o.input && process.stdin.isTTY) throw usageError('load: no input: use -i FILE or pipe an archive to stdin');
        const names = await loadImages(imageDeps(ctx), o.input ? createReadStream(o.input) : process.stdin);
        if (!o.quiet) for (const n of names) ctx.out(`Loaded image: ${familiarString(parseReference(n))}\n`);
      });
  add(program.command('load'));
  add(imageGroup(program).command('load'));
};

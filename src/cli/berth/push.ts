import type { Command } from 'commander';
import { push, type PushEvent } from '../../image/index.js';
import type { RegisterCommand } from './commands.js';
import { imageDeps } from './image-deps.js';

export const registerPush: RegisterCommand = (program: Command, ctx) => {
  program
    .command('push')
    .description('push an image to the registry its name points at')
    .argument('<image>', 'local image name, e.g. 127.0.0.1:5000/team/app:1.2')
    .option('-q, --quiet', 'print only the pushed digest')
    .option('--chunk-size <bytes>', 'upload blobs in chunks of this many bytes (default: one request per blob)')
    .action(async (image: string, o: { quiet?: boolean; chunkSize?: string }) => {
      const onEvent = (e: PushEvent) => {
        if (o.quiet) return;
        if (e.type === 'layer' && e.status !== 'pushing') ctx.out(`${e.digest.slice(7, 19)}: ${e.status === 'exists' ? 'Layer already exists' : e.status === 'mounted' ? 'Mounted from another repository' : 'Pushed'}\n`);
      };
      const r = await push(imageDeps(ctx), image, { onEvent, ...(o.chunkSize ? { chunkSize: Number(o.chunkSize) } : {}) });
      ctx.out(o.quiet ? `${r.digest}\n` : `${r.name}: digest: ${r.digest}\n`);
    });
};
